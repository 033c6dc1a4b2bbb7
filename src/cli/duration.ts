import { usageError } from "../core/errors.ts";

const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "90s", "2m", "1h30m", "500ms" or a bare number of seconds, in milliseconds. */
export function parseDurationMs(text: string, what: string): number {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNIT[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos !== s.length || s.length === 0) throw usageError(`${what} "${text}" is not a duration such as 30s, 2m or 1h30m`);
  return Math.round(total);
}
