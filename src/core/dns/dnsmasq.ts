import { existsSync, mkdirSync, opendirSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { basename, join } from "node:path";
import { CiloError, isCiloError, prerequisiteError } from "../errors.ts";
import { fsyncDir, writeFileAtomic, writeFilesAtomic } from "../fs/atomic-write.ts";
import { dnsDir } from "../paths.ts";
import { run } from "../proc/run.ts";
import { which } from "../proc/which.ts";
import { lockTimeoutMs, withFileLock } from "../fs/file-lock.ts";
import { freeLoopbackPort, portInUse, waitForDns, waitForName } from "./probe.ts";
import { type DnsEnv, hostsFileName, planDns, renderMainConfig, renderServersFile, renderWildcardConfig, serversFileOf, switchMarker } from "./render.ts";
import { systemUpstreams } from "./upstreams.ts";
import { readTextIfExists } from "./read-text.ts";
import { isProcessAlive } from "../proc/processes.ts";
import { failpoint } from "../failpoint.ts";

export interface DnsOptions {
  /** `$CILO_HOME`; files live in its `dns/` folder. */
  home: string;
  /** The environment: `CILO_DNSMASQ`, `PATH`, `CILO_DNS_UPSTREAMS`, `CILO_LOCK_TIMEOUT_MS`, and what dnsmasq runs with. */
  env: NodeJS.ProcessEnv;
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
  /**
   * What every env's names depend on besides the env (the machine's suffix, the routing mode's
   * gateway address), as the state says now. A full apply records it (`dns/applied-basis.json`);
   * an env's apply whose basis differs falls back to the full one (every env's names change).
   */
  basis?: string;
}

/**
 * One env's change, for `applyEnvDnsFrom`: what that env serves now and what the front's config
 * needs, both read without reading any other env's record.
 */
export interface EnvDnsChange {
  project: string;
  env: string;
  /** The env as DNS serves it now; undefined when it is not served (stopped, destroyed, on another host). */
  served?: DnsEnv;
  /** The suffixes of every served env (from the state's index), for the front's `local=` lines. */
  suffixes: string[];
}

export interface DnsFiles {
  dir: string;
  config: string;
  hostsDir: string;
  pidFile: string;
  /** A copy of the config the running dnsmasq was started with. */
  loaded: string;
  /** The front's servers file: wildcard domains forwarded to the wildcard instance. */
  servers: string;
  /** What the current wildcard instance serves: `{"port": n, "wildcards": "..."}`. */
  wildcardsLoaded: string;
  /** An earlier cilo's record of every hosts file (`hosts.applied.json`): no longer kept, removed where found. */
  hostsApplied: string;
  /** The `basis` of the last full apply (see DnsOptions). */
  basis: string;
}

/** The config and pid file of the wildcard instance on `port`. */
function wildcardFiles(files: DnsFiles, port: number): { config: string; pidFile: string } {
  return { config: join(files.dir, `wildcards-${port}.conf`), pidFile: join(files.dir, `wildcards-${port}.pid`) };
}

export interface ApplyResult {
  /** dnsmasq's pid; null when it was left or made stopped (nothing to serve, `start: "when-needed"`). */
  pid: number | null;
  started: boolean;
  /** A running dnsmasq was stopped because nothing is left to serve (`start: "when-needed"`). */
  stopped: boolean;
  /** The front dnsmasq was restarted (its config changed: port, suffixes, upstreams). */
  restarted: boolean;
  /** From stopping the old dnsmasq to the new one answering. */
  restartMs?: number;
  /** The wildcard set changed: a new wildcard instance took over without the front stopping. */
  switched: boolean;
  /** From starting the new wildcard instance to the front forwarding to it. */
  switchMs?: number;
  written: string[];
  removed: string[];
  /** Exact names served; after an env's apply (`applyEnvDnsFrom`, not a full one), that env's only. */
  names: number;
  /** A full apply (every env rendered); false for an env's apply that touched only that env. */
  full: boolean;
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

export function dnsFiles(home: string): DnsFiles {
  const dir = dnsDir(home);
  return {
    dir,
    config: join(dir, "dnsmasq.conf"),
    hostsDir: join(dir, "hosts"),
    pidFile: join(dir, "dnsmasq.pid"),
    loaded: join(dir, "dnsmasq.loaded.conf"),
    servers: join(dir, "wildcards.servers"),
    wildcardsLoaded: join(dir, "wildcards.loaded.json"),
    hostsApplied: join(dir, "hosts.applied.json"),
    basis: join(dir, "applied-basis.json"),
  };
}

/**
 * Makes cilo's dnsmasq serve exactly `envs`: validates first (a collision throws before anything
 * is written), replaces changed hosts files atomically (dnsmasq reads them live), removes those of
 * envs no longer present, rewrites the main config, starts dnsmasq when it is not running and
 * restarts it only when the main config (wildcards, port, suffixes, upstreams) changed.
 */
export function applyDns(envs: DnsEnv[], opts: DnsOptions): Promise<ApplyResult> {
  return applyDnsFrom(opts, () => ({ envs, options: opts }));
}

/** `applyDns` on input read under the DNS lock, so concurrent callers never apply stale input. */
export function applyDnsFrom(at: { home: string; env: NodeJS.ProcessEnv }, load: () => { envs: DnsEnv[]; options: DnsOptions }): Promise<ApplyResult> {
  return withDnsLock(at, (held) => {
    const { envs, options } = load();
    return applyLocked(envs, { ...options, home: at.home, env: at.env }, held);
  });
}

/**
 * Applies one env's change (the end of create/up/down/destroy/hostnames) touching only that env:
 * its hosts file (read back and replaced or removed), its `address=` lines in the wildcard set
 * (the set the running wildcard instance serves, with that env's lines swapped: `swapEnvWildcards`)
 * and the front's config (from the index's suffixes). Input is read under the DNS lock, like
 * `applyDnsFrom`, so the last apply of an env serves its latest record. When what runs is not
 * known to match the last apply (the front stopped or on another config, the wildcard instance
 * gone), it falls back to the full apply of `all()`.
 */
export function applyEnvDnsFrom(
  at: { home: string; env: NodeJS.ProcessEnv },
  load: () => { change: EnvDnsChange; options: DnsOptions; all: () => DnsEnv[] },
): Promise<ApplyResult> {
  return withDnsLock(at, async (held) => {
    const { change, options, all } = load();
    const opts = { ...options, home: at.home, env: at.env };
    const files = dnsFiles(opts.home);
    const running = runningPid(files);
    const loaded = readTextIfExists(files.loaded);
    const applied = appliedWildcards(files);
    const base = applied?.wildcards;
    const stale = readTextIfExists(files.basis) !== opts.basis; // the machine's suffix or the routing changed: every env's names
    if (stale || running === undefined || loaded === undefined || loaded !== readTextIfExists(files.config) || base === undefined) {
      return applyLocked(all(), opts, held);
    }
    const plan = planEnvDns(change, base);
    const config = mainConfig([], { ...opts, suffixes: [...change.suffixes, ...(opts.suffixes ?? [])] }, files);
    held();
    mkdirSync(files.hostsDir, { recursive: true });
    removeIfExists(files.hostsApplied); // an older cilo's record of every hosts file: stale from now on
    const path = join(files.hostsDir, plan.file);
    const written: string[] = [];
    const removed: string[] = [];
    if (plan.content === undefined) {
      if (existsSync(path)) {
        unlinkSync(path);
        fsyncDir(files.hostsDir);
        removed.push(plan.file);
      }
    } else if (readTextIfExists(path) !== plan.content) {
      writeFilesAtomic(files.hostsDir, [[plan.file, plan.content]], 0o644, opts.env);
      written.push(plan.file);
    }
    if (readTextIfExists(files.config) !== config) writeFileAtomic(files.config, config, 0o644, opts.env);
    const anyNames = plan.names > 0 || anyHostsFile(files.hostsDir);
    return converge(files, opts, held, { config, wildcards: plan.wildcards, names: plan.names, anyNames, running, written, removed, full: false, applied });
  });
}

/** What one env's apply does, pure: its hosts file (`content` undefined: remove it) and the new wildcard set. */
export function planEnvDns(change: EnvDnsChange, currentWildcards: string): { file: string; content?: string; wildcards: string; names: number } {
  const file = hostsFileName(change.project, change.env);
  const own = change.served ? planDns([change.served]) : { hostsFiles: {} as Record<string, string>, wildcards: "", names: 0 };
  const content = own.hostsFiles[file];
  return {
    file,
    ...(content !== undefined ? { content } : {}),
    wildcards: swapEnvWildcards(currentWildcards, change.project, change.env, own.wildcards),
    names: own.names,
  };
}

/**
 * The wildcard set `current` with the `address=` lines of `project/env` replaced by `mine`, sorted
 * as `planDns` sorts them. An env's lines are those whose name starts with `<project>.<env>.`:
 * project and env names are single labels, so no other env's apex starts so.
 */
export function swapEnvWildcards(current: string, project: string, env: string, mine: string): string {
  const prefix = `address=/${project}.${env}.`.toLowerCase();
  // Unchanged (the usual case): found by string search, without splitting the whole set.
  if (linesStartingWith(current, prefix) === mine) return current;
  const lines = current.split("\n").filter((l) => l.length > 0 && !l.startsWith(prefix));
  lines.push(...mine.split("\n").filter((l) => l.length > 0));
  return lines
    .map((l) => `${l}\n`)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .join("");
}

/** The lines of `text` that start with `prefix`, each with its newline, in order. */
function linesStartingWith(text: string, prefix: string): string {
  const next = (from: number) => {
    const i = text.indexOf(`\n${prefix}`, from);
    return i < 0 ? -1 : i + 1;
  };
  let out = "";
  for (let at = text.startsWith(prefix) ? 0 : next(0); at >= 0; ) {
    const end = text.indexOf("\n", at);
    out += text.slice(at, end < 0 ? text.length : end + 1);
    at = end < 0 ? -1 : next(end);
  }
  return out;
}

/**
 * Stops every dnsmasq of this home (`cilo dns stop`): the front and the wildcard instances the dns
 * folder records, and any other process running on one of this home's configs (found in /proc:
 * `--conf-file=<dns folder>/dnsmasq.conf` or `…/wildcards-<port>.conf`), each checked again just
 * before it is signalled. What was stopped, the front first; empty when nothing ran.
 */
export function stopDns(at: { home: string; env: NodeJS.ProcessEnv }): Promise<DnsmasqProcess[]> {
  return withDnsLock(at, async (held) => {
    const files = dnsFiles(at.home);
    const stopped = await stopAllOfHome(files, held, at.env);
    for (const f of [files.pidFile, files.loaded, files.wildcardsLoaded]) removeIfExists(f);
    return stopped;
  });
}

/**
 * Stops the dnsmasq processes of this home that its dns folder does not record (`cilo doctor
 * --fix`, `dns-stray`): judged again under the DNS lock, so an apply in progress is not one.
 */
export function stopStrayDnsmasq(at: { home: string; env: NodeJS.ProcessEnv }): Promise<DnsmasqProcess[]> {
  return withDnsLock(at, async (held) => {
    const stopped: DnsmasqProcess[] = [];
    for (const p of dnsmasqOfHome(dnsFiles(at.home), at.env).filter((p) => !p.recorded)) {
      held();
      if (await terminate(p.pid, p.config)) stopped.push(p);
    }
    return stopped;
  });
}

/** A dnsmasq process running on one of this home's configs. */
export interface DnsmasqProcess {
  pid: number;
  /** `front`: on `dns/dnsmasq.conf` (the one clients ask); `wildcards`: a wildcard instance. */
  role: "front" | "wildcards";
  /** The config it was started on (its `--conf-file=`). */
  config: string;
  /** A wildcard instance's port (from its config's name). */
  port?: number;
  /** Its pid is in the pid file of its config (`dnsmasq.pid`, `wildcards-<port>.pid`); false: a stray. */
  recorded: boolean;
}

/**
 * Which of this home's dnsmasq configs a command line runs, pure: a program named dnsmasq (or
 * `bin`, the one cilo starts) whose `--conf-file=` is `<dir>/dnsmasq.conf` or
 * `<dir>/wildcards-<port>.conf`. Anything else (another home's, another program) is undefined.
 */
export function homeDnsmasqOf(argv: readonly string[], dir: string, bin?: string): { role: "front" | "wildcards"; config: string; port?: number } | undefined {
  const prog = basename(argv[0] ?? "");
  if (!/dnsmasq/.test(prog) && (bin === undefined || prog !== basename(bin))) return undefined;
  const confs = argv.filter((a) => a.startsWith("--conf-file="));
  if (confs.length !== 1) return undefined;
  const config = confs[0]!.slice("--conf-file=".length);
  if (config === join(dir, "dnsmasq.conf")) return { role: "front", config };
  const prefix = `${join(dir, "wildcards-")}`;
  if (!config.startsWith(prefix)) return undefined;
  const m = /^([1-9]\d{0,4})\.conf$/.exec(config.slice(prefix.length));
  const port = m ? Number(m[1]) : 0;
  return port >= 1 && port <= 65_535 ? { role: "wildcards", config, port } : undefined;
}

/** The dnsmasq processes of this home: /proc scanned (Linux), plus what the pid files record (elsewhere the only source). */
export function dnsmasqOfHome(files: DnsFiles, env?: NodeJS.ProcessEnv): DnsmasqProcess[] {
  let bin: string | undefined;
  try {
    bin = env ? findDnsmasq(env) : undefined;
  } catch {
    bin = undefined;
  }
  const found = new Map<number, DnsmasqProcess>();
  const add = (pid: number, what: { role: "front" | "wildcards"; config: string; port?: number }) => {
    const pidFile = what.role === "front" ? files.pidFile : wildcardFiles(files, what.port!).pidFile;
    found.set(pid, { pid, ...what, recorded: readPid(pidFile) === pid });
  };
  let pids: string[] = [];
  try {
    pids = readdirSync("/proc").filter((n) => /^\d+$/.test(n));
  } catch {
    // no /proc: the pid files only
  }
  for (const p of pids) {
    const pid = Number(p);
    if (pid === process.pid) continue;
    const what = homeDnsmasqOf(commandLine(pid), files.dir, bin);
    if (what) add(pid, what);
  }
  if (pids.length === 0) {
    const front = runningPid(files);
    if (front !== undefined) add(front, { role: "front", config: files.config });
    for (const port of wildcardPorts(files)) {
      const pid = wildcardPid(files, port);
      if (pid !== undefined) add(pid, { role: "wildcards", config: wildcardFiles(files, port).config, port });
    }
  }
  return [...found.values()].sort((a, b) => (a.role === b.role ? a.pid - b.pid : a.role === "front" ? -1 : 1));
}

/** Stops every dnsmasq of this home (recorded or found), and removes the wildcard instances' files. */
async function stopAllOfHome(files: DnsFiles, held: Held, env?: NodeJS.ProcessEnv): Promise<DnsmasqProcess[]> {
  const stopped: DnsmasqProcess[] = [];
  for (const p of dnsmasqOfHome(files, env)) {
    held();
    if (await terminate(p.pid, p.config)) stopped.push(p);
  }
  await stopWildcardInstances(files, held);
  return stopped;
}

function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

/** Whether dnsmasq runs and whether what it serves is what `envs` render to. */
export function dnsStatus(envs: DnsEnv[], opts: DnsOptions): DnsStatus {
  const files = dnsFiles(opts.home);
  const plan = planDns(envs);
  const upstreams = opts.upstreams ?? systemUpstreams({ port: opts.port, env: opts.env });
  const config = mainConfig(envs, { ...opts, upstreams }, files);
  const pid = runningPid(files);
  const onDisk = hostsOnDisk(files.hostsDir);
  const hostsInSync =
    onDisk.length === Object.keys(plan.hostsFiles).length && onDisk.every((f) => readTextIfExists(join(files.hostsDir, f)) === plan.hostsFiles[f]);
  const configInSync = readTextIfExists(files.config) === config && (pid === undefined || readTextIfExists(files.loaded) === config);
  const wild = currentWildcards(files);
  const wildcardsInSync =
    plan.wildcards === ""
      ? (readTextIfExists(files.servers) ?? "") === ""
      : pid === undefined || (wild?.wildcards === plan.wildcards && readTextIfExists(files.servers) === renderServersFile(plan.wildcards, wild.port));
  return {
    running: pid !== undefined,
    pid: pid ?? null,
    port: opts.port,
    names: plan.names,
    inSync: hostsInSync && configInSync && wildcardsInSync,
    configPath: files.config,
    hostsDir: files.hostsDir,
    upstreams,
  };
}

/**
 * The files `envs` render to, as `applyDns` would write them; `wildcards` are the `address=` lines
 * the wildcard instance serves (its config names a port chosen when it starts).
 */
export function renderDns(envs: DnsEnv[], opts: DnsOptions): { config: string; hostsFiles: Record<string, string>; wildcards: string; files: DnsFiles } {
  const files = dnsFiles(opts.home);
  const plan = planDns(envs);
  return { config: mainConfig(envs, opts, files), hostsFiles: plan.hostsFiles, wildcards: plan.wildcards, files };
}

/**
 * The dnsmasq binary: `CILO_DNSMASQ` (a path, or a name looked up on PATH only), else `dnsmasq`
 * on PATH or in the sbin folders (not on a normal user's PATH on Debian).
 */
export function findDnsmasq(env: NodeJS.ProcessEnv): string {
  const wanted = env["CILO_DNSMASQ"];
  const found = which(wanted ?? "dnsmasq", env, wanted ? [] : SBIN_DIRS);
  if (found) return found;
  const where = !wanted ? "on PATH or in /usr/sbin" : wanted.includes("/") ? `at ${wanted} (CILO_DNSMASQ)` : `as "${wanted}" on PATH (CILO_DNSMASQ)`;
  throw prerequisiteError("E_DNSMASQ_MISSING", `dnsmasq was not found ${where}; cilo serves env names with it`, INSTALL_HINT);
}

async function applyLocked(envs: DnsEnv[], opts: DnsOptions, held: Held): Promise<ApplyResult> {
  failpoint(opts.env, "dns:apply-locked"); // tests hold a full apply here, the DNS lock held, for over 5 s
  const files = dnsFiles(opts.home);
  const plan = planDns(envs);
  const config = mainConfig(envs, opts, files);
  held();
  mkdirSync(files.hostsDir, { recursive: true });
  removeIfExists(files.basis); // until this apply is done: an env's apply cut in meanwhile is a full one
  const { written, removed } = syncHostsDir(files.hostsDir, plan.hostsFiles, opts.env);
  removeIfExists(files.hostsApplied);
  if (readTextIfExists(files.config) !== config) writeFileAtomic(files.config, config, 0o644, opts.env);
  const running = runningPid(files);
  const done = await converge(files, opts, held, {
    config,
    wildcards: plan.wildcards,
    names: plan.names,
    anyNames: plan.names > 0,
    running,
    written,
    removed,
    full: true,
  });
  held();
  if (opts.basis !== undefined) writeFileAtomic(files.basis, opts.basis, 0o644, opts.env);
  return done;
}

/**
 * With the hosts files and the front's config written: makes the processes serve them. No name
 * left (`start: "when-needed"`): stops dnsmasq. Else switches the wildcard instance when the set
 * changed, and starts or restarts the front when it does not run on `config`.
 */
async function converge(
  files: DnsFiles,
  opts: DnsOptions,
  held: Held,
  c: {
    config: string;
    wildcards: string;
    names: number;
    anyNames: boolean;
    running: number | undefined;
    written: string[];
    removed: string[];
    full: boolean;
    /** What `appliedWildcards` found under this same DNS lock: not read and checked a second time. */
    applied?: { wildcards: string; port: number } | undefined;
  },
): Promise<ApplyResult> {
  const { config, running } = c;
  const base = { written: c.written, removed: c.removed, names: c.names, full: c.full, stopped: false, switched: false };
  if (!c.anyNames && opts.start === "when-needed") {
    held();
    await stopAllOfHome(files, held, opts.env);
    if (running !== undefined || readTextIfExists(files.loaded) !== undefined)
      for (const f of [files.pidFile, files.loaded, files.wildcardsLoaded]) removeIfExists(f);
    if ((readTextIfExists(files.servers) ?? "") !== "") writeFileAtomic(files.servers, "");
    return { pid: null, started: false, restarted: false, ...base, stopped: running !== undefined };
  }
  // Wildcards first, so the servers file already names the right instance when the front starts.
  const tw = performance.now();
  const wild =
    c.applied !== undefined && c.applied.wildcards === c.wildcards && c.wildcards !== ""
      ? { changed: false, port: c.applied.port }
      : await ensureWildcards(opts.env, files, c.wildcards, held);
  const frontCurrent = running !== undefined && readTextIfExists(files.loaded) === config;
  if (frontCurrent) {
    if (wild.changed) {
      // The front re-reads its servers file on SIGHUP and keeps answering meanwhile; the old
      // instance keeps answering what is forwarded to it until the front has switched.
      held();
      signal(running, "SIGHUP");
      if (wild.port !== undefined && !(await waitForName(opts.port, `x.${switchMarker(wild.port)}`, 5_000))) {
        throw new CiloError("E_DNS_START", `cilo's dnsmasq on 127.0.0.1:${opts.port} did not take the new wildcard names within 5 s`, {
          hint: `Run cilo dns stop, then any env command`,
        });
      }
      await stopWildcardInstances(files, held, wild.port);
    }
    return {
      pid: running,
      started: false,
      restarted: false,
      ...base,
      switched: wild.changed,
      ...(wild.changed ? { switchMs: Math.round(performance.now() - tw) } : {}),
    };
  }
  const t0 = performance.now();
  held();
  if (running !== undefined) await terminate(running, files.config);
  removeIfExists(files.loaded);
  const pid = await launch(opts.env, files.config, files.pidFile, opts.port, held);
  writeFileAtomic(files.loaded, config, 0o644, opts.env);
  await stopWildcardInstances(files, held, wild.port);
  if (running === undefined) return { pid, started: true, restarted: false, ...base };
  return { pid, started: false, restarted: true, restartMs: Math.round(performance.now() - t0), ...base };
}

/**
 * The wildcard set the running wildcard instance serves as the last apply left it, or undefined
 * when that is not known (its record, instance or servers file does not match): then an env's
 * apply falls back to the full one. No wildcards: "" when the servers file is empty.
 */
function appliedWildcards(files: DnsFiles): { wildcards: string; port: number } | undefined {
  const cur = currentWildcards(files);
  const servers = readTextIfExists(files.servers);
  if (cur === undefined) return (servers ?? "") === "" ? { wildcards: "", port: 0 } : undefined;
  return wildcardPid(files, cur.port) !== undefined && servers === serversFileOf(cur.wildcards, cur.port) ? cur : undefined;
}

/** Whether `dir` holds a hosts file: stops at the first, so a full folder costs no more than one. */
function anyHostsFile(dir: string): boolean {
  let d: ReturnType<typeof opendirSync> | undefined;
  try {
    d = opendirSync(dir);
    for (let e = d.readSync(); e !== null; e = d.readSync()) if (e.name.endsWith(".hosts")) return true;
    return false;
  } catch {
    return false;
  } finally {
    d?.closeSync();
  }
}

/**
 * Makes a wildcard instance serve `wildcards` and the servers file name it. Unchanged: nothing
 * happens. Changed: a new instance starts on a free loopback port beside the old one (which the
 * caller stops once the front forwards to the new one). No wildcards: an empty servers file.
 */
async function ensureWildcards(env: NodeJS.ProcessEnv, files: DnsFiles, wildcards: string, held: Held): Promise<{ changed: boolean; port?: number }> {
  const cur = currentWildcards(files);
  if (wildcards === "") {
    const changed = (readTextIfExists(files.servers) ?? "") !== "" || cur !== undefined;
    held();
    if ((readTextIfExists(files.servers) ?? "") !== "" || !existsSync(files.servers)) writeFileAtomic(files.servers, "");
    removeIfExists(files.wildcardsLoaded);
    return { changed };
  }
  if (
    cur &&
    cur.wildcards === wildcards &&
    wildcardPid(files, cur.port) !== undefined &&
    readTextIfExists(files.servers) === serversFileOf(wildcards, cur.port)
  ) {
    return { changed: false, port: cur.port };
  }
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freeLoopbackPort();
    const w = wildcardFiles(files, port);
    held();
    writeFileAtomic(w.config, renderWildcardConfig({ port, pidFile: w.pidFile, wildcards }));
    try {
      await launch(env, w.config, w.pidFile, port, held);
      break;
    } catch (e) {
      // Another program took the free port between the probe and dnsmasq's bind: take another.
      // (launch leaves no process behind when it fails, so the config can go.)
      removeIfExists(w.config);
      if (attempt >= 3 || !isCiloError(e) || e.code !== "E_DNS_PORT_TAKEN") throw e;
    }
  }
  held();
  writeFileAtomic(files.servers, renderServersFile(wildcards, port));
  writeFileAtomic(files.wildcardsLoaded, `${JSON.stringify({ port, wildcards })}\n`);
  return { changed: true, port };
}

function currentWildcards(files: DnsFiles): { port: number; wildcards: string } | undefined {
  try {
    const doc = JSON.parse(readTextIfExists(files.wildcardsLoaded) ?? "") as { port?: unknown; wildcards?: unknown };
    return typeof doc.port === "number" && Number.isInteger(doc.port) && typeof doc.wildcards === "string"
      ? { port: doc.port, wildcards: doc.wildcards }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Stops every wildcard instance of this home that its files record but the one on `keep`, and removes their files. */
async function stopWildcardInstances(files: DnsFiles, held: Held, keep?: number): Promise<void> {
  for (const port of wildcardPorts(files)) {
    if (port === keep) continue;
    const pid = wildcardPid(files, port);
    const w = wildcardFiles(files, port);
    held();
    if (pid !== undefined) await terminate(pid, w.config);
    removeIfExists(w.pidFile);
    removeIfExists(w.config);
  }
}

/** The ports of the wildcard instances whose config is in the dns folder. */
function wildcardPorts(files: DnsFiles): number[] {
  let names: string[];
  try {
    names = readdirSync(files.dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const m = /^wildcards-(\d+)\.conf$/.exec(name);
    return m ? [Number(m[1])] : [];
  });
}

function wildcardPid(files: DnsFiles, port: number): number | undefined {
  const w = wildcardFiles(files, port);
  return runningPidOf(w.config, w.pidFile);
}

function mainConfig(envs: DnsEnv[], opts: DnsOptions, files: DnsFiles): string {
  return renderMainConfig({
    port: opts.port,
    dir: files.hostsDir,
    upstreams: opts.upstreams ?? systemUpstreams({ port: opts.port, env: opts.env }),
    suffixes: [...envs.map((e) => e.suffix), ...(opts.suffixes ?? [])],
    serversFile: files.servers,
    pidFile: files.pidFile,
  });
}

/**
 * Writes the hosts files whose content differs from `wanted` (each read back) and removes the
 * others; dnsmasq picks both up. The changed files are written in one batch (one folder sync).
 */
function syncHostsDir(dir: string, wanted: Record<string, string>, env: NodeJS.ProcessEnv): { written: string[]; removed: string[] } {
  const changed = Object.entries(wanted).filter(([name, content]) => readTextIfExists(join(dir, name)) !== content);
  const stale = readdirSync(dir).filter((name) => (name.endsWith(".hosts") && !(name in wanted)) || (name.startsWith(".") && name.endsWith(".tmp")));
  writeFilesAtomic(dir, changed, 0o644, env);
  for (const name of stale) removeIfExists(join(dir, name));
  if (stale.length > 0) fsyncDir(dir);
  return { written: changed.map(([name]) => name), removed: stale.filter((name) => !name.startsWith(".")) };
}

function hostsOnDisk(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith(".hosts"));
  } catch {
    return [];
  }
}

/**
 * Starts a dnsmasq on `config` as a daemon and waits until it answers. When it does not, the
 * daemon it started is stopped again before it throws: a failed start leaves no process behind
 * (its config may then be removed, and nothing would find the process by it).
 */
async function launch(env: NodeJS.ProcessEnv, config: string, pidFile: string, port: number, held: Held): Promise<number> {
  const bin = findDnsmasq(env);
  held();
  // Started as root, dnsmasq would switch to `nobody`, who cannot read $CILO_HOME (mode 700).
  const args = [`--conf-file=${config}`, ...(process.getuid?.() === 0 ? ["--user=root"] : [])];
  const r = await run(bin, args, { env: { ...env, LC_ALL: "C" } });
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
    throw new CiloError("E_DNS_START", `dnsmasq did not start on 127.0.0.1:${port}: ${why}`, { hint: `Its config is ${config}` });
  }
  const pid = readPid(pidFile);
  if (pid === undefined || !(await waitForDns(port, 5_000))) {
    if (pid !== undefined) await terminate(pid, config);
    throw new CiloError("E_DNS_START", `dnsmasq started but does not answer on 127.0.0.1:${port}`, { hint: `Its config is ${config}` });
  }
  return pid;
}

/**
 * Stops the dnsmasq `pid` if it still runs on `config` (checked before each signal, so a pid
 * reused by another process is never signalled); SIGKILL after 5 s. Whether it was signalled.
 */
async function terminate(pid: number, config: string): Promise<boolean> {
  const ours = () => isProcessAlive(pid) && (!existsSync("/proc/self/cmdline") || commandLine(pid).includes(`--conf-file=${config}`));
  if (!ours()) return false;
  const deadline = Date.now() + 5_000;
  signal(pid, "SIGTERM");
  // Until the pid is gone, not only its command line: a process that has exited but is not reaped
  // yet (a zombie) has an empty one and still answers kill(0). A pid taken by another program
  // meanwhile (a command line, not ours) ends the wait; a zombie nobody reaps, the deadline.
  const waiting = () => isProcessAlive(pid) && (!existsSync("/proc/self/cmdline") || ours() || commandLine(pid).length === 0);
  while (waiting()) {
    if (Date.now() > deadline + 2_000) break;
    if (Date.now() > deadline && ours()) signal(pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

/** The pid of the (front) dnsmasq running on this home's config, if any. */
function runningPid(files: DnsFiles): number | undefined {
  return runningPidOf(files.config, files.pidFile);
}

/** The pid in `pidFile` when that process is a dnsmasq started on `config`. */
function runningPidOf(config: string, pidFile: string): number | undefined {
  const pid = readPid(pidFile);
  if (pid === undefined || !isProcessAlive(pid)) return undefined;
  if (!existsSync("/proc/self/cmdline")) return pid;
  return commandLine(pid).includes(`--conf-file=${config}`) ? pid : undefined;
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

/**
 * Throws `E_DNS_LOCK_LOST` once this process no longer holds the DNS lock: another cilo took it
 * over as stale while this one was frozen or starved for over 5 s (SIGSTOP, a suspended machine,
 * valgrind, a loaded machine with a 10,000-env apply), and may have applied or stopped DNS since
 * (`cilo dns stop`). Called before every start, stop or signal of a dnsmasq and every write of
 * what runs: a holder that lost the lock must not start a dnsmasq after a `dns stop` that ran
 * meanwhile (nothing would stop it), nor record over what the other process left.
 */
type Held = () => void;

/** Serialises every change to the dns folder across cilo processes (same scheme as the state lock). */
async function withDnsLock<T>(at: { home: string; env: NodeJS.ProcessEnv }, fn: (held: Held) => Promise<T>): Promise<T> {
  const files = dnsFiles(at.home);
  mkdirSync(files.dir, { recursive: true });
  return withFileLock(files.config, lockTimeoutMs(at.env), (isCompromised) =>
    fn(() => {
      if (!isCompromised()) return;
      throw new CiloError(
        "E_DNS_LOCK_LOST",
        `The DNS lock on ${files.config} was taken over while this command held it (it stalled for over 5 s); it left dnsmasq as the other command made it`,
        {
          hint: "Run cilo dns start to apply the state's DNS (or cilo dns stop to stop it)",
        },
      );
    }),
  );
}

function removeIfExists(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // not there
  }
}
