import { existsSync, mkdirSync, readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { CiloError, prerequisiteError } from "../errors.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { ciloHome, dnsDir } from "../paths.ts";
import { run } from "../proc/run.ts";
import { which } from "../proc/which.ts";
import { withFileLock } from "../fs/file-lock.ts";
import { portInUse, waitForDns } from "./probe.ts";
import { type DnsEnv, type DnsPlan, planDns, renderMainConfig } from "./render.ts";
import { systemUpstreams } from "./upstreams.ts";
import { readTextIfExists } from "./read-text.ts";
import { isProcessAlive } from "../proc/processes.ts";

export interface DnsOptions {
  /** `$CILO_HOME`; files live in its `dns/` folder. */
  home?: string;
  /** Loopback port dnsmasq listens on. */
  port: number;
  /** Suffixes answered locally even when no env uses them (unknown names there are NXDOMAIN). */
  suffixes?: string[];
  /** Forwarders in dnsmasq `server=` syntax; default: discovered by `systemUpstreams`. */
  upstreams?: string[];
  /**
   * `always` (default, `cilo dns start`) runs dnsmasq even with no name to serve; `when-needed`
   * (every env change) stops a running dnsmasq, or leaves a stopped one stopped, while there is no
   * name to serve (e.g. after the last env is destroyed), so no dnsmasq outlives its last env.
   */
  start?: "always" | "when-needed";
}

export interface DnsFiles {
  dir: string;
  config: string;
  hostsDir: string;
  pidFile: string;
  /** A copy of the config the running dnsmasq was started with. */
  loaded: string;
}

export interface ApplyResult {
  /** dnsmasq's pid; null when it was left or made stopped (nothing to serve, `start: "when-needed"`). */
  pid: number | null;
  started: boolean;
  /** A running dnsmasq was stopped because nothing is left to serve (`start: "when-needed"`). */
  stopped: boolean;
  restarted: boolean;
  /** From stopping the old dnsmasq to the new one answering. */
  restartMs?: number;
  written: string[];
  removed: string[];
  names: number;
}

export interface DnsStatus {
  running: boolean;
  pid: number | null;
  port: number;
  names: number;
  /** The files on disk (and the config dnsmasq runs with) are what the given envs render to. */
  inSync: boolean;
  configPath: string;
  hostsDir: string;
  upstreams: string[];
}

const INSTALL_HINT = process.platform === "darwin" ? "Install it with: brew install dnsmasq" : "Install it with: apt-get install dnsmasq-base (Debian/Ubuntu)";
const SBIN_DIRS = ["/usr/sbin", "/sbin", "/usr/local/sbin", "/opt/homebrew/sbin"];

export function dnsFiles(home = ciloHome()): DnsFiles {
  const dir = dnsDir(home);
  return {
    dir,
    config: join(dir, "dnsmasq.conf"),
    hostsDir: join(dir, "hosts"),
    pidFile: join(dir, "dnsmasq.pid"),
    loaded: join(dir, "dnsmasq.loaded.conf"),
  };
}

/**
 * Makes cilo's dnsmasq serve exactly `envs`: validates first (a collision throws before anything
 * is written), replaces changed hosts files atomically (dnsmasq reads them live), removes those of
 * envs no longer present, rewrites the main config, starts dnsmasq when it is not running and
 * restarts it only when the main config (wildcards, port, suffixes, upstreams) changed.
 */
export function applyDns(envs: DnsEnv[], opts: DnsOptions): Promise<ApplyResult> {
  return applyDnsFrom(opts.home ?? ciloHome(), () => ({ envs, options: opts }));
}

/** `applyDns` on input read under the DNS lock, so concurrent callers never apply stale input. */
export function applyDnsFrom(home: string, load: () => { envs: DnsEnv[]; options: DnsOptions }): Promise<ApplyResult> {
  return withDnsLock(home, () => {
    const { envs, options } = load();
    return applyLocked(envs, { ...options, home });
  });
}

/** Stops cilo's dnsmasq; false when it was not running. */
export function stopDns(opts: { home?: string } = {}): Promise<boolean> {
  const home = opts.home ?? ciloHome();
  return withDnsLock(home, async () => {
    const files = dnsFiles(home);
    const pid = runningPid(files);
    if (pid !== undefined) await terminate(pid);
    for (const f of [files.pidFile, files.loaded]) removeIfExists(f);
    return pid !== undefined;
  });
}

/** Whether dnsmasq runs and whether what it serves is what `envs` render to. */
export function dnsStatus(envs: DnsEnv[], opts: DnsOptions): DnsStatus {
  const files = dnsFiles(opts.home);
  const plan = planDns(envs);
  const upstreams = opts.upstreams ?? systemUpstreams({ port: opts.port });
  const config = mainConfig(plan, envs, { ...opts, upstreams }, files);
  const pid = runningPid(files);
  const onDisk = hostsOnDisk(files.hostsDir);
  const hostsInSync =
    onDisk.length === Object.keys(plan.hostsFiles).length && onDisk.every((f) => readTextIfExists(join(files.hostsDir, f)) === plan.hostsFiles[f]);
  const configInSync = readTextIfExists(files.config) === config && (pid === undefined || readTextIfExists(files.loaded) === config);
  return {
    running: pid !== undefined,
    pid: pid ?? null,
    port: opts.port,
    names: plan.names,
    inSync: hostsInSync && configInSync,
    configPath: files.config,
    hostsDir: files.hostsDir,
    upstreams,
  };
}

/** The files `envs` render to, as `applyDns` would write them. */
export function renderDns(envs: DnsEnv[], opts: DnsOptions): { config: string; hostsFiles: Record<string, string>; files: DnsFiles } {
  const files = dnsFiles(opts.home);
  const plan = planDns(envs);
  return { config: mainConfig(plan, envs, opts, files), hostsFiles: plan.hostsFiles, files };
}

/**
 * The dnsmasq binary: `CILO_DNSMASQ` (a path, or a name looked up on PATH only), else `dnsmasq`
 * on PATH or in the sbin folders (not on a normal user's PATH on Debian).
 */
export function findDnsmasq(env: NodeJS.ProcessEnv = process.env): string {
  const wanted = env["CILO_DNSMASQ"];
  const found = which(wanted ?? "dnsmasq", env, wanted ? [] : SBIN_DIRS);
  if (found) return found;
  const where = !wanted ? "on PATH or in /usr/sbin" : wanted.includes("/") ? `at ${wanted} (CILO_DNSMASQ)` : `as "${wanted}" on PATH (CILO_DNSMASQ)`;
  throw prerequisiteError("E_DNSMASQ_MISSING", `dnsmasq was not found ${where}; cilo serves env names with it`, INSTALL_HINT);
}

async function applyLocked(envs: DnsEnv[], opts: DnsOptions): Promise<ApplyResult> {
  const files = dnsFiles(opts.home);
  const plan = planDns(envs);
  const config = mainConfig(plan, envs, opts, files);
  mkdirSync(files.hostsDir, { recursive: true });
  const { written, removed } = syncHostsDir(files.hostsDir, plan.hostsFiles);
  if (readTextIfExists(files.config) !== config) writeFileAtomic(files.config, config);
  const running = runningPid(files);
  const base = { written, removed, names: plan.names, stopped: false };
  if (plan.names === 0 && opts.start === "when-needed") {
    if (running !== undefined) await terminate(running);
    if (running !== undefined || readTextIfExists(files.loaded) !== undefined) for (const f of [files.pidFile, files.loaded]) removeIfExists(f);
    return { pid: null, started: false, restarted: false, ...base, stopped: running !== undefined };
  }
  if (running !== undefined && readTextIfExists(files.loaded) === config) {
    return { pid: running, started: false, restarted: false, ...base };
  }
  const t0 = performance.now();
  if (running !== undefined) await terminate(running);
  removeIfExists(files.loaded);
  const pid = await launch(files, opts.port);
  writeFileAtomic(files.loaded, config);
  if (running === undefined) return { pid, started: true, restarted: false, ...base };
  return { pid, started: false, restarted: true, restartMs: Math.round(performance.now() - t0), ...base };
}

function mainConfig(plan: DnsPlan, envs: DnsEnv[], opts: DnsOptions, files: DnsFiles): string {
  return renderMainConfig({
    port: opts.port,
    dir: files.hostsDir,
    upstreams: opts.upstreams ?? systemUpstreams({ port: opts.port }),
    suffixes: [...envs.map((e) => e.suffix), ...(opts.suffixes ?? [])],
    wildcards: plan.wildcards,
    pidFile: files.pidFile,
  });
}

/** Writes the hosts files whose content changed and removes the others; dnsmasq picks both up. */
function syncHostsDir(dir: string, wanted: Record<string, string>): { written: string[]; removed: string[] } {
  const written: string[] = [];
  const removed: string[] = [];
  for (const [name, content] of Object.entries(wanted)) {
    if (readTextIfExists(join(dir, name)) === content) continue;
    writeFileAtomic(join(dir, name), content);
    written.push(name);
  }
  for (const name of readdirSync(dir)) {
    const stale = (name.endsWith(".hosts") && !(name in wanted)) || (name.startsWith(".") && name.endsWith(".tmp"));
    if (!stale) continue;
    removeIfExists(join(dir, name));
    if (!name.startsWith(".")) removed.push(name);
  }
  return { written, removed };
}

function hostsOnDisk(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith(".hosts"));
  } catch {
    return [];
  }
}

/** Starts dnsmasq as a daemon and waits until it answers. */
async function launch(files: DnsFiles, port: number): Promise<number> {
  const bin = findDnsmasq();
  // Started as root, dnsmasq would switch to `nobody`, who cannot read $CILO_HOME (mode 700).
  const args = [`--conf-file=${files.config}`, ...(process.getuid?.() === 0 ? ["--user=root"] : [])];
  const r = await run(bin, args, { env: { ...process.env, LC_ALL: "C" } });
  if (r.code !== 0) {
    const why =
      r.stderr
        .trim()
        .split("\n")
        .filter(Boolean)
        .pop()
        ?.replace(/^dnsmasq: /, "") ?? `exit code ${r.code}`;
    if (/address already in use/i.test(why) || (await portInUse(port))) {
      throw prerequisiteError(
        "E_DNS_PORT_TAKEN",
        `Port ${port} on 127.0.0.1 is taken by another program, so cilo's dnsmasq cannot listen there`,
        `Stop that program, or move cilo's DNS to a free port: cilo init --dns-port <port>`,
      );
    }
    throw new CiloError("E_DNS_START", `dnsmasq did not start on 127.0.0.1:${port}: ${why}`, { hint: `Its config is ${files.config}` });
  }
  const pid = readPid(files.pidFile);
  if (pid === undefined || !(await waitForDns(port, 5_000))) {
    throw new CiloError("E_DNS_START", `dnsmasq started but does not answer on 127.0.0.1:${port}`, { hint: `Its config is ${files.config}` });
  }
  return pid;
}

async function terminate(pid: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  signal(pid, "SIGTERM");
  while (isProcessAlive(pid)) {
    if (Date.now() > deadline) signal(pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The pid of the dnsmasq running on this home's config, if any. */
function runningPid(files: DnsFiles): number | undefined {
  const pid = readPid(files.pidFile);
  if (pid === undefined || !isProcessAlive(pid)) return undefined;
  if (!existsSync("/proc/self/cmdline")) return pid;
  const cmdline = readTextIfExists(`/proc/${pid}/cmdline`) ?? "";
  return cmdline.includes(`--conf-file=${files.config}`) ? pid : undefined;
}

function readPid(file: string): number | undefined {
  const n = Number((readTextIfExists(file) ?? "").trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

/** Serialises every change to the dns folder across cilo processes (same scheme as the state lock). */
async function withDnsLock<T>(home: string, fn: () => Promise<T>): Promise<T> {
  const files = dnsFiles(home);
  mkdirSync(files.dir, { recursive: true });
  return withFileLock(files.config, fn);
}

function removeIfExists(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // not there
  }
}
