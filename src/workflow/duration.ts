import { CiloError, ExitCode } from "../core/errors.ts";

/** A duration as written in a workflow: `"1h30m"`, `"2m"`, `"45s"`, `"500ms"`, or a number of seconds. */
export type Duration = string | number;

/** Units in the order they must appear; the JSON Schema's duration pattern is this same text. */
export const DURATION_PATTERN = "^(?=\\d)(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?(\\d+ms)?$";

/** The phrase error messages use for what a duration looks like. */
export const DURATION_EXPECTED = "a duration like 30s, 2m, 1h30m or 500ms, or a number of seconds";

const UNIT_MS = [86_400_000, 3_600_000, 60_000, 1_000, 1] as const;
const DURATION = new RegExp(DURATION_PATTERN);

/** Milliseconds of a duration; a number counts seconds. Throws `E_DURATION_INVALID` (exit 2) otherwise. */
export function parseDuration(input: Duration): number {
  if (typeof input === "number") {
    if (Number.isFinite(input) && input >= 0) return Math.round(input * 1000);
    throw invalid(String(input));
  }
  const match = DURATION.exec(input.trim());
  if (!match) throw invalid(JSON.stringify(input));
  return UNIT_MS.reduce((total, unit, i) => total + unit * Number.parseInt(match[i + 1] ?? "0", 10), 0);
}

function invalid(shown: string): CiloError {
  return new CiloError("E_DURATION_INVALID", `The duration ${shown} is not valid; expected ${DURATION_EXPECTED}`, {
    exitCode: ExitCode.usage,
  });
}
