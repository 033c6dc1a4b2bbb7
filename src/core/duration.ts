import { usageError } from "./errors.ts";

/**
 * The one duration grammar of cilo, shared by the CLI (`--timeout`, `--older-than`), workflow
 * files (every `timeout`, `interval`, `backoff`, `cleanup_timeout`) and their JSON Schema:
 * a number of seconds (`30`, `1.5`), or one or more `<number><unit>` parts (`90s`, `1.5m`, `1h30m`,
 * `2w`), units `ms` `s` `m` `h` `d` `w`, numbers whole or decimal, parts in any order and added up.
 * Leading and trailing blanks are ignored; nothing else is (no signs, no spaces, no capitals).
 */

/** The grammar as a regular expression source; schema/cilo.workflow.schema.json has this same text. */
export const DURATION_PATTERN = "^(?:\\d+(?:\\.\\d+)?|(?:\\d+(?:\\.\\d+)?(?:ms|s|m|h|d|w))+)$";

/** Milliseconds per unit. */
export const DURATION_UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION = new RegExp(DURATION_PATTERN);
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/** Milliseconds (rounded) of a duration text, or undefined when it does not follow the grammar. */
export function durationMs(text: string): number | undefined {
  const s = text.trim();
  if (!DURATION.test(s)) return undefined;
  if (!/[a-z]/.test(s)) return Math.round(Number(s) * 1000);
  let total = 0;
  for (const m of s.matchAll(PART)) total += Number(m[1]) * DURATION_UNIT_MS[m[2]!]!;
  return Math.round(total);
}

/** True for text that is a bare number (seconds, no unit). */
export function isUnitless(text: string): boolean {
  return /^\d+(?:\.\d+)?$/.test(text.trim());
}

/** A TTL (`cilo create --ttl`, MCP `env_create { ttl }`): a duration with a unit, more than 0. */
export function parseTtl(text: string, what = "--ttl"): number {
  const ms = isUnitless(text) ? undefined : durationMs(text);
  if (ms === undefined || ms <= 0)
    throw usageError(`${what} "${text}" is not a duration such as 2h, 30m or 1d`, "Give a number with a unit: ms, s, m, h, d or w");
  return ms;
}
