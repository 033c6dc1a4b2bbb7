/** A `<first>-<last>` port range; undefined when it is not one (1..65535, first <= last). */
export function parseForwardRange(text: string): { first: number; last: number } | undefined {
  const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text);
  if (!m) return undefined;
  const first = Number(m[1]);
  const last = Number(m[2]);
  if (first < 1 || last > 65535 || first > last) return undefined;
  return { first, last };
}
