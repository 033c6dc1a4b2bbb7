import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isProcessAlive, processCommandLine } from "../proc/processes.ts";
import type { EnvRecord } from "../state/schema.ts";

// The small facts of remote envs' tunnels (tunnel.ts runs them): the gateway's routes and the
// env views need these without loading the process code.

/** Where the gateway container sees `$CILO_HOME/tunnels` (mounted read-only; docs/remote.md "Names"). */
export const GATEWAY_TUNNEL_DIR = "/cilo-tunnels";

/** `$CILO_HOME/tunnels`: the sockets, and one `<project>--<env>.json` (pid and arguments) per tunnel. */
export function tunnelDir(home: string): string {
  return join(home, "tunnels");
}

/** The socket of one HTTP port of a remote env's service: a hash, so the path stays short (unix sockets: 108 bytes). */
export function tunnelSocketName(project: string, env: string, service: string, port: number): string {
  return `${createHash("sha256").update(`${project}\0${env}\0${service}\0${port}`).digest("hex").slice(0, 20)}.sock`;
}

/** What `$CILO_HOME/tunnels/<project>--<env>.json` holds: the ssh process and what it was started with. */
export interface TunnelFile {
  pid: number;
  start_ticks?: number;
  args: string[];
  started_at: string;
}

export function tunnelFile(home: string, rec: Pick<EnvRecord, "project" | "name">): string {
  return join(tunnelDir(home), `${rec.project}--${rec.name}.json`);
}

export function readTunnelFile(home: string, rec: Pick<EnvRecord, "project" | "name">): TunnelFile | undefined {
  try {
    const v = JSON.parse(readFileSync(tunnelFile(home, rec), "utf8")) as Partial<TunnelFile>;
    if (!Number.isInteger(v.pid) || !Array.isArray(v.args) || !v.args.every((a) => typeof a === "string") || typeof v.started_at !== "string") return undefined;
    return v as TunnelFile;
  } catch {
    return undefined;
  }
}

/** Whether the recorded ssh process still runs: the same process (start time) with the same command line. */
export function tunnelAlive(t: TunnelFile): boolean {
  if (!isProcessAlive(t.pid, t.start_ticks !== undefined ? { startTicks: t.start_ticks } : {})) return false;
  // Its command line ends with the recorded arguments (an `ssh` wrapper on PATH may add its own first).
  const argv = processCommandLine(t.pid);
  return argv.length === 0 || (argv.length > t.args.length && argv.slice(-t.args.length).join("\0") === t.args.join("\0"));
}

/** How a remote env is reached from here now (`cilo status`): through its ssh forward, and whether that runs. */
export interface TunnelStatus {
  via: "ssh-forward";
  running: boolean;
  pid?: number;
}

export function tunnelStatus(home: string, rec: Pick<EnvRecord, "project" | "name">): TunnelStatus {
  const t = readTunnelFile(home, rec);
  return t && tunnelAlive(t) ? { via: "ssh-forward", running: true, pid: t.pid } : { via: "ssh-forward", running: false };
}
