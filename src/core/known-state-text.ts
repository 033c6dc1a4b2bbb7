/**
 * The last index text (`state.json`) this process read and validated, or wrote (after validating
 * it), per file, and what it parses to. While the file still holds that text (another process may
 * have replaced it: the text is compared, not a time stamp) it is not validated again. Kept in
 * core's bottom layer (the store types it as `IndexDoc`) so that the engine choice (engine.ts),
 * which reads `config.engine` after the store has read the file, parses it no second time
 * (docs/performance.md). See docs/state.md and state/store.ts.
 */
export const knownStateText = new Map<string, { text: string; doc?: object }>();
