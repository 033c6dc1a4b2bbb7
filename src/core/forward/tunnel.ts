import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { CiloError } from "../errors.ts";
import type { CiloContext } from "../context/context.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { gatewayDisabled } from "../gateway/settings.ts";
import { isProcessAlive, processIdentity } from "../proc/processes.ts";
import { sshTarget } from "../host/remote-paths.ts";
import { hostUnreachable } from "../host/hosts.ts";
import { remoteHost } from "../host/hosts.ts";
import { configIp, configPort } from "../dns-names.ts";
import { envKey, type EnvRecord, type ForwardRecord, type ServiceRecord } from "../state/schema.ts";
import { withState } from "../state/store.ts";
import { readTunnelFile, tunnelAlive, tunnelDir, tunnelFile, tunnelSocketName, type TunnelFile } from "../gateway/tunnel-names.ts";
import { assignForwards } from "./forwarder.ts";

// Names of an env on a host (docs/remote.md "Names"): one `ssh -N -L …` process per env, held by
// cilo like the forward containers of a local env. Its listeners are this machine's: a TCP forward
// is `127.0.0.1:<host port>` (from the home's forward range), an HTTP port of a service is a unix
// socket in `$CILO_HOME/tunnels/` that this machine's gateway dials (the folder is mounted into
// it). Each leads to the service's container IP and port as the host sees them: the host reaches
// its own engine's containers, the laptop does not.

/** How often a tunnel takes another TCP port when another program holds the one it got. */
const PORT_TAKEN_ATTEMPTS = 10;
/** How long a new tunnel may take to log in and listen. */
const READY_TIMEOUT_MS = 20_000;
/** The only files `stopTunnel` removes besides the env's own `.json` and `.log`. */
const SOCKET_NAME = /^[0-9a-f]{20}\.sock$/;

/** One listener of a tunnel: a socket file (HTTP, for the gateway) or a loopback port (TCP forward), and where it leads on the host. */
export interface TunnelListen {
  kind: "http" | "tcp";
  service: string;
  port: number;
  /** A socket name in the tunnels folder, or `127.0.0.1:<host port>`. */
  listen: string;
  /** `<container ip>:<port>` as the host reaches it. */
  target: string;
}

/** The HTTP ports of a service the gateway routes (as render.ts does): its `port` (else 80) and every one of `ports`, less its TCP ports. */
function httpPorts(s: ServiceRecord): number[] {
  const tcp = s.tcp ?? [];
  return [...new Set([s.port ?? 80, ...(s.ports ?? [])])].filter((p) => !tcp.includes(p)).sort((a, b) => a - b);
}

/**
 * What a remote env's tunnel listens on (pure): for each service with an address, a socket per
 * HTTP port, and each TCP forward on its loopback port; empty when the env does not run. Every
 * address and port is checked where it goes into the ssh command line.
 */
export function tunnelPlan(rec: Pick<EnvRecord, "project" | "name" | "status" | "services">, forwards: ForwardRecord[]): TunnelListen[] {
  if (rec.status !== "running") return [];
  const out: TunnelListen[] = [];
  const key = envKey(rec.project, rec.name);
  const services = [...rec.services].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const s of services) {
    if (!s.ip || s.shared) continue;
    const ip = configIp(s.ip, `The address of ${s.name} in ${key}`);
    if (ip.includes(":")) continue; // ssh -L's host:port form; envs get IPv4 subnets
    for (const port of httpPorts(s)) {
      configPort(port, `The port of ${s.name} in ${key}`);
      out.push({ kind: "http", service: s.name, port, listen: tunnelSocketName(rec.project, rec.name, s.name, port), target: `${ip}:${port}` });
    }
  }
  for (const f of forwards) {
    const s = rec.services.find((x) => x.name === f.service);
    if (!s?.ip) continue;
    const ip = configIp(s.ip, `The address of ${s.name} in ${key}`);
    configPort(f.port, `The port of ${s.name} in ${key}`);
    configPort(f.host_port, `The forward port of ${s.name} in ${key}`);
    if (f.address !== "127.0.0.1") throw new CiloError("E_STATE_CORRUPT", `The TCP forward of ${s.name} in ${key} is on ${f.address}, not 127.0.0.1`);
    out.push({ kind: "tcp", service: f.service, port: f.port, listen: `127.0.0.1:${f.host_port}`, target: `${ip}:${f.port}` });
  }
  return out;
}

/** The `ssh` arguments of a tunnel (pure): its own connection (see docs/remote.md for why not the shared one), never a shell. */
export function tunnelArgs(address: string, dir: string, plan: TunnelListen[]): string[] {
  const t = sshTarget(address);
  return [
    "-N",
    "-T",
    ...t.options,
    "-o",
    "ExitOnForwardFailure=yes",
    "-o",
    "ServerAliveInterval=5",
    "-o",
    "ServerAliveCountMax=3",
    "-o",
    "StreamLocalBindUnlink=yes",
    "-o",
    "ControlMaster=no",
    "-o",
    "ControlPath=none",
    ...plan.flatMap((l) => ["-L", `${l.kind === "http" ? join(dir, l.listen) : l.listen}:${l.target}`]),
    "--",
    t.host,
  ];
}

/**
 * Whether a running remote env's tunnel is missing or was made for other addresses (doctor):
 * the plan the state gives now against the recorded process.
 */
export function tunnelStale(home: string, address: string, rec: EnvRecord): boolean {
  const plan = tunnelPlan(rec, rec.forwards ?? []);
  if (plan.length === 0) return false;
  const t = readTunnelFile(home, rec);
  return !t || !tunnelAlive(t) || t.args.join("\0") !== tunnelArgs(address, tunnelDir(home), plan).join("\0");
}

/**
 * Gives a running env on a host its names and TCP forwards on this machine (docs/remote.md
 * "Names"): TCP forward ports allocated under the state lock from the home's range (the same rule
 * as local forwards: kept when free, never another env's), then one `ssh -N -L …` process for all
 * of the env's listeners. A tunnel that already runs with the same arguments is left alone (its
 * connections live on); otherwise the old one is stopped and a new one started, and cilo waits
 * until it listens. Does nothing under `CILO_GATEWAY=off`. Returns the env's TCP forwards.
 */
export async function syncTunnel(local: CiloContext, key: string): Promise<ForwardRecord[]> {
  if (gatewayDisabled(local.env)) return [];
  const excluded = new Set<number>();
  for (let attempt = 1; ; attempt++) {
    const plan = await withState(local, (state) => {
      const cur = state.envs[key];
      if (!cur?.host || cur.status !== "running") return undefined;
      // A host without SSH (tcp://) has no ssh to forward through: its envs have no names here yet
      // (docs/remote.md, "Limits").
      const host = remoteHost(local, state, cur.host);
      if (!host.ssh) return undefined;
      const forwards = assignForwards(state, key, cur, "127.0.0.1", excluded);
      return { rec: { ...cur }, forwards, host };
    });
    if (!plan) return [];
    const taken = await startTunnel(local, plan.rec, plan.forwards, plan.host);
    if (taken === undefined) return plan.forwards;
    // Another program holds a port of the range: take the next free one, as local forwards do.
    excluded.add(taken);
    if (attempt >= PORT_TAKEN_ATTEMPTS) {
      throw new CiloError("E_FORWARD_RANGE_FULL", `Other programs hold the host ports ${[...excluded].join(", ")} of the TCP forward range`, {
        hint: "Choose another range with cilo init --forward-ports <first>-<last>",
      });
    }
  }
}

/**
 * Makes the env's ssh forward match `forwards` and its services: left alone when it runs with the
 * same arguments, else replaced. Returns a TCP port another program holds (the caller takes
 * another), else undefined once every listener is up.
 */
async function startTunnel(
  local: CiloContext,
  rec: EnvRecord,
  forwards: ForwardRecord[],
  host: { name: string; address: string },
): Promise<number | undefined> {
  const home = local.home;
  const dir = tunnelDir(home);
  const listen = tunnelPlan(rec, forwards);
  const old = readTunnelFile(home, rec);
  if (listen.length === 0) {
    stopTunnel(home, rec);
    return undefined;
  }
  const args = tunnelArgs(host.address, dir, listen);
  if (old && tunnelAlive(old) && old.args.join("\0") === args.join("\0")) return undefined;
  stopTunnel(home, rec);
  // A port held by another program is found before ssh starts: the readiness check below could
  // otherwise take that program's listener for the forward's.
  for (const l of listen) {
    if (l.kind !== "tcp") continue;
    const port = Number(l.listen.split(":")[1]);
    if (!(await canListen(port))) return port;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = join(dir, `${rec.project}--${rec.name}.log`);
  const fd = openSync(log, "w", 0o600);
  const child = spawn("ssh", args, { detached: true, stdio: ["ignore", "ignore", fd], env: { ...local.env } });
  closeSync(fd);
  let exited: number | null | undefined;
  child.on("exit", (code) => {
    exited = code;
  });
  child.on("error", () => {
    exited = -1;
  });
  const pid = child.pid;
  if (pid === undefined) throw tunnelFailed(host, "ssh could not be started", log);
  const ticks = processIdentity(pid).startTicks;
  const file: TunnelFile = { pid, ...(ticks !== undefined ? { start_ticks: ticks } : {}), args, started_at: new Date(local.clock.now()).toISOString() };
  writeFileAtomic(tunnelFile(home, rec), `${JSON.stringify(file)}\n`, 0o600);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined) {
      rmSync(tunnelFile(home, rec), { force: true });
      const held = /bind \[127\.0\.0\.1\]:(\d+): Address already in use/.exec(readLog(log));
      if (held) return Number(held[1]);
      // 0: ssh handed the forwards to a shared connection (a ControlPath that wins over ours) and left.
      throw tunnelFailed(
        host,
        exited === 0 ? "ssh exited at once instead of holding the forwards (a shared ControlMaster connection took them)" : `ssh exited (${exited})`,
        log,
      );
    }
    if (await listening(dir, listen)) break;
    if (Date.now() > deadline) {
      stopTunnel(home, rec);
      throw tunnelFailed(host, `ssh did not listen within ${READY_TIMEOUT_MS / 1000} s`, log);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.unref();
  return undefined;
}

/** Whether this machine lets a listener bind 127.0.0.1:port now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function readLog(log: string): string {
  try {
    return readFileSync(log, "utf8");
  } catch {
    return "";
  }
}

/** Whether every socket of the plan exists and every loopback port accepts a connection. */
async function listening(dir: string, plan: TunnelListen[]): Promise<boolean> {
  for (const l of plan) {
    if (l.kind === "http") {
      if (!existsSync(join(dir, l.listen))) return false;
      continue;
    }
    const port = Number(l.listen.split(":")[1]);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (!ok) return false;
  }
  return true;
}

function tunnelFailed(host: { name: string; address: string }, what: string, log: string): CiloError {
  const line =
    readLog(log)
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .pop() ?? "";
  return hostUnreachable(host.name, { host: host.address, source: `host ${host.name}` }, "ssh forward", `${what}${line ? `: ${line.slice(0, 200)}` : ""}`);
}

/**
 * Stops an env's tunnel (down, destroy, a new tunnel): the recorded ssh process, only when it is
 * still the one cilo started (start time and command line), then its file and sockets. Nothing
 * else is signalled or removed.
 */
export function stopTunnel(home: string, rec: Pick<EnvRecord, "project" | "name">): void {
  const t = readTunnelFile(home, rec);
  if (t && tunnelAlive(t)) {
    try {
      process.kill(t.pid, "SIGTERM");
    } catch {
      // gone meanwhile
    }
    // Its loopback ports are free for the next tunnel only once it has exited (ssh exits at once on TERM).
    const until = Date.now() + 3_000;
    while (Date.now() < until && isProcessAlive(t.pid)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  const dir = tunnelDir(home);
  for (const l of t?.args ?? []) {
    const m = /^(\/[^:]+\.sock):/.exec(l);
    if (m && m[1]!.startsWith(`${dir}/`) && SOCKET_NAME.test(m[1]!.slice(dir.length + 1))) rmSync(m[1]!, { force: true });
  }
  rmSync(tunnelFile(home, rec), { force: true });
  rmSync(join(dir, `${rec.project}--${rec.name}.log`), { force: true });
}
