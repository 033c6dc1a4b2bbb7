// Small helpers shared by the benchmarks: timing, medians and the one-table report.
import { spawnSync } from "node:child_process";

export function timeMs(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

export async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs a command, failing loudly: a benchmark of a failing command measures nothing. */
export function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: opts.cwd, env: opts.env ?? process.env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export interface Row {
  what: string;
  value: number;
  unit: string;
  versus: string;
  base: number;
  /** e.g. "≤ 2×" or "≤ +300 ms"; shown beside the ratio. */
  target: string;
  ok: boolean;
}

/** One table: figure, comparison measured in the same run, ratio, target. */
export function printTable(title: string, rows: Row[]): void {
  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
  const cells = rows.map((r) => [r.what, `${fmt(r.value)} ${r.unit}`, r.versus, `${fmt(r.base)} ${r.unit}`, `${(r.value / r.base).toFixed(2)}×`, r.target, r.ok ? "ok" : "MISSED"]);
  const head = ["measure", "cilo", "compared with", "that", "ratio", "target", ""];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i]!)).join("  ").trimEnd();
  console.log(`\n${title}`);
  console.log(line(head));
  for (const c of cells) console.log(line(c));
}
