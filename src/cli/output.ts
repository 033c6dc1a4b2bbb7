/** Plain-text table: columns padded to the widest cell, no colours. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
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
