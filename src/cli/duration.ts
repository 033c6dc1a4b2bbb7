import { durationMs } from "../core/duration.ts";
import { usageError } from "../core/errors.ts";

/** "90s", "2m", "1h30m", "500ms", "1d" or a bare number of seconds, in milliseconds (grammar: src/core/duration.ts). */
export function parseDurationMs(text: string, what: string): number {
  const ms = durationMs(text);
  if (ms === undefined) throw usageError(`${what} "${text}" is not a duration such as 30s, 2m or 1h30m`);
  return ms;
}
