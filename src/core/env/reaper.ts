import type { CiloContext } from "../context/context.ts";
import { envContext } from "./env-context.ts";
import { appendFileSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { CiloError, messageOf } from "../errors.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { lockTimeoutMs, withFileLock } from "../fs/file-lock.ts";
import { envContainers } from "../runtime/env-resources.ts";
import { composeProcesses, isProcessAlive, processIdentity, type ProcessIdentity } from "../proc/processes.ts";
import { envKey, type EnvRecord, type State } from "../state/schema.ts";
import { qualifiedEnv } from "../names.ts";
import { readState } from "../state/store.ts";
import { spawnDetachedCilo } from "../proc/spawn-cilo.ts";
import { destroyEnv } from "./destroy-env.ts";
import { refreshDns } from "../dns/dns.ts";

/** How often the reaper looks at its owner. */
const POLL_MS = 250;
/** Every this many polls it also checks that the owner still has envs (else it retires). */
const STATE_EVERY = 4;
/** How long it waits for another process's operation on an env, or a leftover compose call, to end. */
const SETTLE_MS = 60_000;
const ATTEMPTS = 3;

/** `$CILO_HOME/reapers/<owner pid>.json`: the one reaper watching that owner. */
interface ReaperRecord {
  owner_pid: number;
  owner_start_ticks?: number;
  reaper_pid: number;
  reaper_start_ticks?: number;
  started_at: string;
}

export function reapersDir(home: string): string {
  return join(home, "reapers");
}

/**
 * Makes sure a reaper watches `ownerPid`: a small detached cilo process (`cilo __reap`) that, when
 * that process is gone, destroys every env whose `owner_pid` it is, then exits. One reaper per
 * owner: a second throwaway env of the same owner finds the first reaper running.
 */
export async function ensureReaper(ctx: CiloContext, ownerPid: number): Promise<void> {
  const file = reaperFile(ownerPid, ctx.home);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const owner = processIdentity(ownerPid);
  await withFileLock(file, lockTimeoutMs(ctx.env), async () => {
    const current = readReaper(file);
    if (current && current.owner_start_ticks === owner.startTicks && reaperRuns(current)) return;
    const reaper = spawnReaper(ctx, owner);
    const rec: ReaperRecord = {
      owner_pid: ownerPid,
      ...(owner.startTicks !== undefined ? { owner_start_ticks: owner.startTicks } : {}),
      reaper_pid: reaper.pid,
      ...(reaper.startTicks !== undefined ? { reaper_start_ticks: reaper.startTicks } : {}),
      started_at: new Date(ctx.clock.now()).toISOString(),
    };
    writeFileAtomic(file, `${JSON.stringify(rec)}\n`, 0o600, ctx.env);
  });
}

/** Owner pids that a running reaper watches. */
export function watchedOwners(home: string): number[] {
  let names: string[];
  try {
    names = readdirSync(reapersDir(home)).filter((n) => /^\d+\.json$/.test(n));
  } catch {
    return [];
  }
  return names
    .map((n) => readReaper(join(reapersDir(home), n)))
    .filter((r): r is ReaperRecord => r !== undefined && reaperRuns(r))
    .map((r) => r.owner_pid);
}

/** Forgets a reaper that has stopped (its record and log) once its owner has no env left. */
export async function forgetReaper(ctx: CiloContext, ownerPid: number): Promise<void> {
  const file = reaperFile(ownerPid, ctx.home);
  await withFileLock(file, lockTimeoutMs(ctx.env), async () => {
    const rec = readReaper(file);
    if ((rec && reaperRuns(rec)) || ownedEnvs(ctx, ownerPid)?.length !== 0) return;
    unlinkIfExists(file);
    unlinkIfExists(logFile(file));
  });
}

/**
 * The reaper itself (`cilo __reap <owner pid> <owner start ticks|->`): polls the owner every
 * 250 ms; retires when the owner has no env left; when the owner is gone, destroys its envs through
 * `destroyEnv` (containers are force-removed first: nothing of a throwaway env needs a clean stop).
 */
export async function runReaper(ctx: CiloContext, argv: string[]): Promise<number> {
  if (argv[0] === TTL) return runTtlReaper(ctx);
  const ownerPid = Number(argv[0]);
  if (!Number.isInteger(ownerPid) || ownerPid <= 0) return 2;
  const ticks = argv[1] !== undefined && argv[1] !== "-" ? Number(argv[1]) : undefined;
  const file = reaperFile(ownerPid, ctx.home);
  await preload(ctx);
  const ownerAlive = () => isProcessAlive(ownerPid, ticks !== undefined ? { startTicks: ticks } : {});
  const owned = (e: EnvRecord) => e.owner_pid === ownerPid;
  for (let poll = 0; ownerAlive(); poll++) {
    if (poll % STATE_EVERY === 0 && (await retireIfIdle(ctx, file, owned))) return 0;
    await ctx.clock.sleep(POLL_MS);
  }
  const ok = await reapAll(ctx, owned, file);
  await retireIfIdle(ctx, file, owned);
  return ok ? 0 : 1;
}

/** The argument of `cilo __reap ttl`: the one reaper of a home that destroys envs whose TTL ran out. */
const TTL = "ttl";
/** How often the TTL reaper looks for expired envs: an env goes at most this long after its `expires_at` (plus its destroy). */
const TTL_POLL_MS = 1_000;

/**
 * Makes sure the home's TTL reaper runs (`cilo __reap ttl`, record `reapers/ttl.json`): it destroys
 * every env whose `expires_at` has passed, whatever happened to the process that created it, and
 * retires once no env has a TTL. `cilo gc` destroys expired envs too (after a reboot, say).
 */
export async function ensureTtlReaper(ctx: CiloContext): Promise<void> {
  const file = join(reapersDir(ctx.home), `${TTL}.json`);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  await withFileLock(file, lockTimeoutMs(ctx.env), async () => {
    const current = readReaper(file);
    if (current && reaperRuns(current)) return;
    const pid = spawnDetachedCilo(ctx, ["__reap", TTL], { CILO_HOME: ctx.home });
    if (!pid) throw new CiloError("E_REAPER", "Cannot start the reaper that destroys envs whose TTL ran out (cilo did not start)");
    const reaper = processIdentity(pid);
    const rec: ReaperRecord = {
      owner_pid: 0,
      reaper_pid: reaper.pid,
      ...(reaper.startTicks !== undefined ? { reaper_start_ticks: reaper.startTicks } : {}),
      started_at: new Date(ctx.clock.now()).toISOString(),
    };
    writeFileAtomic(file, `${JSON.stringify(rec)}\n`, 0o600, ctx.env);
  });
}

/** Whether the env's TTL (`cilo create --ttl`) has run out at `now`. */
export function isExpired(rec: EnvRecord, now: number): boolean {
  return rec.expires_at !== undefined && Date.parse(rec.expires_at) <= now;
}

async function runTtlReaper(ctx: CiloContext): Promise<number> {
  const file = join(reapersDir(ctx.home), `${TTL}.json`);
  await preload(ctx);
  const withTtl = (e: EnvRecord) => e.expires_at !== undefined;
  for (;;) {
    if (await retireIfIdle(ctx, file, withTtl)) return 0;
    const now = ctx.clock.now();
    const expired = envsWhere(ctx, (e) => isExpired(e, now)) ?? [];
    if (expired.length > 0) {
      const keys = new Set(expired.map((e) => envKey(e.project, e.name)));
      await reapAll(ctx, (e) => keys.has(envKey(e.project, e.name)), file);
    }
    await ctx.clock.sleep(TTL_POLL_MS);
  }
}

/**
 * Loads now every module a destroy needs: the reaper may wait for hours, and meanwhile the bundle's
 * chunk files may be replaced by a newer build whose names differ.
 */
async function preload(ctx: CiloContext): Promise<void> {
  await ctx.provider();
  await ctx.compose().catch(() => undefined);
  await Promise.all([import("../dns/dns.ts"), import("../dns/dnsmasq.ts"), import("../dns/from-state.ts")]);
}

async function reapAll(ctx: CiloContext, which: (e: EnvRecord) => boolean, file: string): Promise<boolean> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const owned = envsWhere(ctx, which);
    if (owned === undefined) return false;
    if (owned.length === 0) return true;
    const results = await Promise.allSettled(owned.map((rec) => reapEnv(ctx, rec, file)));
    // Every env's DNS, not only the reaped envs': an owner killed mid-operation may have left its change unapplied (docs/dns.md).
    await refreshDns(ctx);
    results.forEach((r, i) => {
      if (r.status === "rejected") log(file, `destroying ${envKey(owned[i]!.project, owned[i]!.name)} failed (attempt ${attempt}): ${messageOf(r.reason)}`);
    });
    if (results.some((r) => r.status === "rejected")) await ctx.clock.sleep(1_000 * attempt);
  }
  return envsWhere(ctx, which)?.length === 0;
}

async function reapEnv(ctx: CiloContext, rec: EnvRecord, file: string): Promise<void> {
  const key = envKey(rec.project, rec.name);
  await settle(ctx, key, rec.docker_name);
  const provider = await envContext(ctx, rec).provider(); // the env's engine: its host's for one on a host
  const homeId = safeState(ctx)?.home_id;
  if (!homeId) return;
  const containers = await envContainers(provider, rec, homeId);
  await Promise.all(containers.map((c) => provider.removeContainer(c.id)));
  await destroyEnv(ctx, {
    ref: qualifiedEnv(rec.project, rec.name),
    project: rec.project,
    force: true,
    discardWork: true,
    onNotice: (line) => log(file, `${key}: ${line}`),
  });
}

/** Waits while another live process operates on the env, or a compose call of it outlives its cilo. */
async function settle(ctx: CiloContext, key: string, composeProject: string): Promise<void> {
  const deadline = ctx.clock.now() + SETTLE_MS;
  while (ctx.clock.now() < deadline) {
    const op = safeState(ctx)?.envs[key]?.operation;
    const busy = (op && isProcessAlive(op.pid, { startedBefore: Date.parse(op.started_at) })) || (composeProcesses().get(composeProject)?.length ?? 0) > 0;
    if (!busy) return;
    await ctx.clock.sleep(POLL_MS);
  }
}

/** Retires (removes its record and tells the caller to exit) when no env it watches is left. */
async function retireIfIdle(ctx: CiloContext, file: string, which: (e: EnvRecord) => boolean): Promise<boolean> {
  if (envsWhere(ctx, which)?.length !== 0) return false;
  return withFileLock(file, lockTimeoutMs(ctx.env), async () => {
    if (envsWhere(ctx, which)?.length !== 0) return false;
    if (readReaper(file)?.reaper_pid === process.pid) unlinkIfExists(file);
    return true;
  });
}

function ownedEnvs(ctx: CiloContext, ownerPid: number): EnvRecord[] | undefined {
  return envsWhere(ctx, (e) => e.owner_pid === ownerPid);
}

function envsWhere(ctx: CiloContext, which: (e: EnvRecord) => boolean): EnvRecord[] | undefined {
  const state = safeState(ctx);
  return state && Object.values(state.envs).filter(which);
}

function safeState(ctx: CiloContext): State | undefined {
  try {
    return readState(ctx);
  } catch {
    return undefined;
  }
}

function spawnReaper(ctx: CiloContext, owner: ProcessIdentity): ProcessIdentity {
  const pid = spawnDetachedCilo(ctx, ["__reap", String(owner.pid), owner.startTicks === undefined ? "-" : String(owner.startTicks)], { CILO_HOME: ctx.home });
  if (!pid) throw new CiloError("E_REAPER", "Cannot start the reaper that destroys throwaway envs (cilo did not start)");
  return processIdentity(pid);
}

function reaperRuns(rec: ReaperRecord): boolean {
  return isProcessAlive(rec.reaper_pid, rec.reaper_start_ticks !== undefined ? { startTicks: rec.reaper_start_ticks } : {});
}

function reaperFile(ownerPid: number, home: string): string {
  return join(reapersDir(home), `${ownerPid}.json`);
}

function readReaper(file: string): ReaperRecord | undefined {
  try {
    const rec = JSON.parse(readFileSync(file, "utf8"));
    return Number.isInteger(rec?.owner_pid) && Number.isInteger(rec?.reaper_pid) ? (rec as ReaperRecord) : undefined;
  } catch {
    return undefined;
  }
}

function log(file: string, line: string): void {
  try {
    appendFileSync(logFile(file), `${new Date().toISOString()} ${line}\n`);
  } catch {
    // nowhere to say it; doctor reports the env (env-owner-gone)
  }
}

function logFile(file: string): string {
  return file.replace(/\.json$/, ".log");
}

function unlinkIfExists(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}
