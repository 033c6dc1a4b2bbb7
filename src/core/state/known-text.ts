import type { IndexDoc } from "./layout.ts";

/**
 * The last index text (`state.json`) this process read and validated, or wrote (after validating
 * it), per file, and what it parses to. While the file still holds that text (another process may
 * have replaced it: the text is compared, not a time stamp) it is not validated again. A leaf
 * module, so that the engine choice (engine.ts), which reads `config.engine` before or after the
 * store, parses the same text no second time (docs/performance.md). See docs/state.md.
 */
export const knownStateText = new Map<string, { text: string; doc?: IndexDoc }>();
