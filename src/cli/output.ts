/** Plain-text table: columns padded to the widest cell, no colours. */
export function table(headers: string[], rows: string[][]): string {
  // Loops, not map/spread/join per row: `cilo list` prints one row per env (1,000s), and the
  // arrays those made were most of its per-env cost (docs/performance.md).
  const widths = headers.map((h) => h.length);
  for (const r of rows)
    for (let i = 0; i < widths.length; i++) {
      const n = (r[i] ?? "").length;
      if (n > widths[i]!) widths[i] = n;
    }
  const line = (cells: string[]) => {
    const last = cells.length - 1;
    let s = "";
    for (let i = 0; i < last; i++) s += `${cells[i]!.padEnd(widths[i] ?? 0)}  `;
    return last >= 0 ? (s + cells[last]!).trimEnd() : s;
  };
  let out = line(headers);
  for (const r of rows) out += `\n${line(r)}`;
  return out;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function println(s = ""): void {
  process.stdout.write(`${s}\n`);
}

/** Progress and notices go to stderr, and only when it is a terminal (SPEC §6a). */
export function notice(s: string): void {
  if (process.stderr.isTTY || process.env["CILO_VERBOSE"] === "1") process.stderr.write(`${s}\n`);
}

/** Warnings a user must see even in scripts, on stderr as `cilo: warning: ...` (core reports its own through `CiloContext.log`). */
export function warn(s: string): void {
  process.stderr.write(`cilo: warning: ${s}
`);
}
