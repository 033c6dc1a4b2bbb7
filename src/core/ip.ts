/**
 * IP address syntax, as `node:net`'s `isIP` judges it, without loading `node:net`: importing it
 * pulls seven more built-in modules into every command that validates state (about 10 M
 * instructions of `cilo list`'s start-up, docs/performance.md). `test/unit/ip.test.ts` checks the
 * two agree.
 */

const V4_PART = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;
const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;
const ZONE = /^[0-9a-zA-Z\-.:]+$/;

/** Dotted-quad IPv4: four decimal parts 0–255, no leading zeros. */
export function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => V4_PART.test(p));
}

/**
 * IPv6 in any of its textual forms: eight groups, or fewer with one `::`, the last two groups
 * optionally written as IPv4, optionally followed by `%<zone>`.
 */
export function isIPv6(s: string): boolean {
  const pct = s.indexOf("%");
  if (pct !== -1 && !ZONE.test(s.slice(pct + 1))) return false;
  const addr = pct === -1 ? s : s.slice(0, pct);
  const halves = addr.split("::");
  if (halves.length > 2) return false;
  const groupsOf = (half: string): string[] => (half === "" ? [] : half.split(":"));
  const head = groupsOf(halves[0] ?? "");
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? "") : [];
  const all = [...head, ...tail];
  let count = all.length;
  // An embedded IPv4 address counts as two groups and may only come last (not before a final `::`).
  const last = halves.length === 2 ? tail[tail.length - 1] : head[head.length - 1];
  if (last?.includes(".")) {
    if (!isIPv4(last)) return false;
    all.pop();
    count += 1;
  }
  if (!all.every((g) => V6_GROUP.test(g))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** 4, 6 or 0 (not an IP address), like `node:net`'s `isIP`. */
export function ipVersion(s: string): 0 | 4 | 6 {
  if (isIPv4(s)) return 4;
  if (isIPv6(s)) return 6;
  return 0;
}
