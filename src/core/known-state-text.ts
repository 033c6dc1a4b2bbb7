/**
 * The last index text (`state.json`) this process read and validated, or wrote (after validating
 * it), per file, and what it parses to. While the file still holds that text (another process may
 * have replaced it: the text is compared, not a time stamp) it is not validated again. The store
 * types it as `IndexDoc`. See docs/state.md and state/store.ts.
 */
export const knownStateText = new Map<string, { text: string; doc?: object }>();

/**
 * The home part (version, id, config, hosts…) of a state text in the one-entry-a-line form the
 * store writes (`renderIndexText`, state/layout.ts), parsed from its first line alone: a command
 * that needs only the config (the engine choice) does not parse every index entry. Undefined for
 * any other form, or a first line that is not JSON: parse the whole text.
 */
export function homePartOfText(text: string): Record<string, unknown> | undefined {
  const nl = text.indexOf("\n");
  // The whole text in the line form, or its first line alone (docker-endpoint.ts, readStateHead).
  if (nl < 0 || !(text.endsWith("\n}}\n") || nl === text.length - 1) || !text.slice(0, nl).endsWith('"index":{')) return undefined;
  try {
    const doc = JSON.parse(`${text.slice(0, nl)}}}`) as Record<string, unknown>;
    delete doc["index"];
    delete doc["index_sha1"]; // the seal of the text (state/index-view.ts), not part of the home
    return doc;
  } catch {
    return undefined;
  }
}
