import { DURATION_PATTERN, durationMs } from "../core/duration.ts";
import { CiloError, ExitCode } from "../core/errors.ts";

/** A duration as written in a workflow: `"1h30m"`, `"2m"`, `"45s"`, `"500ms"`, or a number of seconds. */
export type Duration = string | number;

/** The grammar (src/core/duration.ts); the JSON Schema's duration pattern is this same text. */
export { DURATION_PATTERN };

/** The phrase error messages use for what a duration looks like. */
export const DURATION_EXPECTED = "a duration like 30s, 2m, 1h30m or 500ms, or a number of seconds";

/** Milliseconds of a duration; a number counts seconds. Throws `E_DURATION_INVALID` (exit 2) otherwise. */
export function parseDuration(input: Duration): number {
  if (typeof input === "number") {
    if (Number.isFinite(input) && input >= 0) return Math.round(input * 1000);
    throw invalid(String(input));
  }
  const ms = durationMs(input);
  if (ms === undefined) throw invalid(JSON.stringify(input));
  return ms;
}

function invalid(shown: string): CiloError {
  return new CiloError("E_DURATION_INVALID", `The duration ${shown} is not valid; expected ${DURATION_EXPECTED}`, {
    exitCode: ExitCode.usage,
  });
}
