// Small helpers shared by the benchmarks: timing, medians and the one-table report.
import { spawnSync } from "node:child_process";
import { appendFileSync } from "node:fs";
import { join } from "node:path";

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
  // maxBuffer: `cilo list --json` at 10,000 envs prints far more than the 1 MiB default (ENOBUFS, status null).
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: opts.cwd, env: opts.env ?? process.env, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * Wall and CPU time (user + system, from the child's rusage as bash's `time` reports it) of one
 * run of a command. CPU time barely moves when other work shares the machine; wall time does.
 */
export function timeCommand(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { wallMs: number; cpuMs: number } {
  const script = 'TIMEFORMAT="%3R %3U %3S"; { time "$@" >/dev/null 2>&3; } 3>&2 2>&1';
  const r = spawnSync("bash", ["-c", script, "timed", cmd, ...args], { encoding: "utf8", cwd: opts.cwd, env: opts.env ?? process.env });
  const m = /(\d+\.\d+) (\d+\.\d+) (\d+\.\d+)\s*$/.exec(r.stdout);
  if (r.status !== 0 || !m) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return { wallMs: Number(m[1]) * 1000, cpuMs: (Number(m[2]) + Number(m[3])) * 1000 };
}

export interface Row {
  what: string;
  value: number;
  unit: string;
  versus: string;
  base: number;
  /** e.g. "≤ 2×" or "≤ +300 ms", shown beside the ratio; "report" for a figure without a target. */
  target: string;
  ok: boolean;
}

/** A numeric command-line option: `--runs 20`. */
export function numberArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

/** A row as bench/run collects it: which benchmark measured it (`CILO_BENCH_NAME`), and the row. */
export interface CollectedRow extends Row {
  bench: string;
}

/** The rows as aligned text: figure, comparison measured in the same run, ratio, target. */
export function formatTable(rows: (Row | CollectedRow)[]): string {
  const fmt = (n: number) => (Number.isInteger(n) || n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
  const withBench = rows.some((r) => "bench" in r);
  const cells = rows.map((r) => [
    ...(withBench ? [(r as CollectedRow).bench] : []),
    r.what,
    `${fmt(r.value)} ${r.unit}`,
    r.versus,
    `${fmt(r.base)} ${r.unit}`,
    r.base === 0 ? "—" : `${(r.value / r.base).toFixed(2)}×`,
    r.target,
    r.target === "report" ? "" : r.ok ? "ok" : "MISSED",
  ]);
  const head = [...(withBench ? ["bench"] : []), "measure", "cilo", "compared with", "that", "ratio", "target", ""];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => x.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(head), ...cells.map(line)].join("\n");
}

/**
 * Prints one benchmark's table. With `CILO_BENCH_OUT` set (bench/run sets it), the rows are also
 * appended to that file as JSON lines, so that one final table can show every benchmark's rows.
 */
export function printTable(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  console.log(formatTable(rows));
  const out = process.env["CILO_BENCH_OUT"];
  const bench = process.env["CILO_BENCH_NAME"] ?? "";
  if (out) appendFileSync(out, rows.map((r) => `${JSON.stringify({ bench, ...r } satisfies CollectedRow)}\n`).join(""));
}

/**
 * `cilo up <env>` against the compose CLI's own `up -d` on the same rendered file, alternated, `runs`
 * times each (each followed by its down): the env must exist and have been up once (its
 * `.cilo/compose.yml` rendered, caches warm). `project` is the compose project name to run under.
 */
export function alternateUps(o: {
  cilo: (...a: string[]) => string;
  env: string;
  workspace: string;
  project: string;
  runs: number;
  processEnv?: NodeJS.ProcessEnv;
  /** An earlier build's cilo on the same home, timed in the same alternation (before/after). */
  baseline?: (...a: string[]) => string;
}): { cilo: number; compose: number; baseline?: number; rounds: { cilo: number; compose: number; baseline?: number }[] } {
  const compose = ["-p", o.project, "-f", join(o.workspace, ".cilo/compose.yml")];
  const opts = { cwd: o.workspace, ...(o.processEnv ? { env: o.processEnv } : {}) };
  const ciloUp: number[] = [];
  const bareUp: number[] = [];
  const baseUp: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    ciloUp.push(timeMs(() => o.cilo("up", o.env)));
    o.cilo("down", o.env);
    bareUp.push(timeMs(() => sh("docker-compose", [...compose, "up", "-d", "--remove-orphans"], opts)));
    sh("docker-compose", [...compose, "down", "--remove-orphans"], opts);
    if (o.baseline) {
      baseUp.push(timeMs(() => o.baseline!("up", o.env)));
      o.baseline("down", o.env);
    }
  }
  return {
    cilo: median(ciloUp),
    compose: median(bareUp),
    ...(o.baseline ? { baseline: median(baseUp) } : {}),
    rounds: ciloUp.map((c, i) => ({ cilo: c, compose: bareUp[i]!, ...(o.baseline ? { baseline: baseUp[i]! } : {}) })),
  };
}
