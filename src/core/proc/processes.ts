import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of `/proc/<pid>/stat` start times (USER_HZ, 100 on every Linux port). */
const CLOCK_TICKS = 100;
/** `started_at` stamps and `/proc` start times agree to within this much. */
const START_SLACK_MS = 2_000;

export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks after boot (`/proc/<pid>/stat` field 22); undefined off Linux. */
  startTicks?: number;
}

interface ProcStat {
  state: string;
  startTicks: number;
}

/**
 * Whether a process runs: it exists (`kill -0`), is not a zombie, and is the same process that was
 * meant despite pid reuse — its start time equals `startTicks`, or it started no later than
 * `startedBefore` (epoch ms, e.g. when it stamped an operation marker).
 */
export function isProcessAlive(pid: number, opts: { startTicks?: number; startedBefore?: number } = {}): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const stat = readProcStat(pid);
  if (!stat) return true;
  if (stat.state === "Z" || stat.state === "X") return false;
  if (opts.startTicks !== undefined && stat.startTicks !== opts.startTicks) return false;
  if (opts.startedBefore !== undefined) {
    const started = startedAtMs(stat.startTicks);
    if (started !== undefined && started > opts.startedBefore + START_SLACK_MS) return false;
  }
  return true;
}

/** The identity of a running process, to recognise it later despite pid reuse. */
export function processIdentity(pid: number): ProcessIdentity {
  const stat = readProcStat(pid);
  return stat ? { pid, startTicks: stat.startTicks } : { pid };
}

/**
 * Compose CLI processes by compose project name (`-p <name>`), read from `/proc`. A compose call
 * outlives a cilo that was killed while it ran; such a leftover still changes the env. Empty off Linux.
 */
export function composeProcesses(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((n) => /^\d+$/.test(n));
  } catch {
    return out;
  }
  for (const p of pids) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (!argv.some((a) => /compose$/.test(a))) continue;
    const i = argv.indexOf("-p");
    const name = i >= 0 ? argv[i + 1] : undefined;
    if (!name) continue;
    out.set(name, [...(out.get(name) ?? []), Number(p)]);
  }
  return out;
}

/** The command line of a process, empty when unknown (gone, or not Linux). */
export function processCommandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const startTicks = Number(fields[19]);
  if (!fields[0] || !Number.isFinite(startTicks)) return undefined;
  return { state: fields[0], startTicks };
}

let bootMs: number | undefined;

function startedAtMs(startTicks: number): number | undefined {
  if (bootMs === undefined) {
    try {
      const btime = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"));
      if (!btime) return undefined;
      bootMs = Number(btime[1]) * 1000;
    } catch {
      return undefined;
    }
  }
  return bootMs + (startTicks / CLOCK_TICKS) * 1000;
}
