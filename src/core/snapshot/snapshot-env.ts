import type { CiloContext } from "../context/context.ts";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { CiloError, usageError } from "../errors.ts";
import { failpoint } from "../failpoint.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { envLabels, helperLabels, type HomeRef } from "../labels.ts";
import { snapshotsDir } from "../paths.ts";
import { envContainers, envVolumes } from "../runtime/env-resources.ts";
import type { ContainerState, RuntimeProvider } from "../runtime/provider.ts";
import { findEnv } from "../state/find-env.ts";
import type { EnvRecord } from "../state/schema.ts";
import { homeRef, readState } from "../state/store.ts";
import { importYaml } from "../vendor.ts";
import { isRecord } from "../is-record.ts";
import { checkSnapshotName, readSnapshot, removeSnapshot, snapshotDir, type CopyReport, type SnapshotManifest, type SnapshotVolume } from "./snapshot-store.ts";
import { copyDir, DEFAULT_HELPER_IMAGE, reachableHere, reportOf, tarToVolume, treeChecksum, volumeToTar, type CopyMethod, type Helper } from "./volume-copy.ts";

/** Compose's label naming a volume's key in the compose file. */
const COMPOSE_VOLUME = "com.docker.compose.volume";
const COMPOSE_PROJECT = "com.docker.compose.project";

export interface SnapshotOptions {
  env: string;
  project?: string;
  /** Default `<env>-<UTC time>`. */
  name?: string;
  /** Volume keys (as in the compose file); default all of the env's. */
  volumes?: string[];
  /** `pause` (default): services mounting a volume are paused for the copy; `stop`: stopped and started again; `live`: left running. */
  hold?: "pause" | "stop" | "live";
  method?: CopyMethod;
  onProgress?: (message: string) => void;
}

/**
 * Captures an env's named volumes into `$CILO_HOME/snapshots/<name>`. It is made under a `.tmp-`
 * name and renamed when complete: an interrupted snapshot is never listed. Services mounting the
 * volumes are paused (or stopped) for the copy and resumed after, unless `hold` is `live`.
 */
export async function createSnapshot(ctx: CiloContext, opts: SnapshotOptions): Promise<SnapshotManifest> {
  const state = readState(ctx);
  const rec = findEnv(state, opts.env, opts.project);
  const home = homeRef(state, ctx.home);
  const stamp = new Date(ctx.clock.now()).toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").toLowerCase();
  const name = checkSnapshotName(opts.name ?? `${rec.name}-${stamp}`);
  if (existsSync(snapshotDir(ctx.home, name))) {
    throw new CiloError("E_SNAPSHOT_EXISTS", `A snapshot named "${name}" exists already`, { hint: `Pick another --name, or cilo snapshot rm ${name}` });
  }
  const provider = await ctx.provider();
  const volumes = await keyedVolumes(provider, rec, home.id);
  const chosen = pickVolumes(volumes, opts.volumes, rec);
  const hold = opts.hold ?? "pause";
  const progress = opts.onProgress ?? (() => {});
  const tmp = join(snapshotsDir(ctx.home), `.tmp-${name}-${process.pid}-${randomBytes(4).toString("hex")}`);
  mkdirSync(join(tmp, "data"), { recursive: true });
  try {
    const held =
      hold === "live"
        ? []
        : await holdServices(
            provider,
            rec,
            home.id,
            chosen.map((v) => v.name),
            hold,
          );
    const entries: SnapshotVolume[] = [];
    try {
      for (const vol of chosen) {
        progress(`Copying volume ${vol.key}`);
        entries.push(await snapshotVolume(ctx, provider, home, vol, tmp, opts.method ?? "auto"));
        failpoint(ctx.env, "snapshot:volume-copied");
      }
    } finally {
      await releaseServices(provider, held);
    }
    const manifest: SnapshotManifest = {
      version: 1,
      name,
      source: { project: rec.project, env: rec.name, compose_project: rec.docker_name },
      created_at: new Date(ctx.clock.now()).toISOString(),
      consistency: hold === "pause" ? "paused" : hold === "stop" ? "stopped" : "live",
      volumes: entries,
      checksum: createHash("sha256")
        .update(entries.map((e) => `${e.key}:${e.checksum}`).join("\n"))
        .digest("hex"),
    };
    writeFileAtomic(join(tmp, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    renameSync(tmp, snapshotDir(ctx.home, name));
    return manifest;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw copyFailure(e);
  }
}

export interface SeedOptions {
  /** A snapshot name. */
  snapshot?: string;
  /** Or another env (`[<project>/]<env>`): snapshotted (paused) and used at once, then the snapshot is removed. */
  fromEnv?: string;
  method?: CopyMethod;
  onProgress?: (message: string) => void;
}

/**
 * Gives a new env (created, never started) volumes that start as copies of a snapshot's: each is
 * created with cilo's and compose's labels before compose ever runs, so `up` uses it as its own.
 * `rendered` is the env's transformed compose model. On failure the volumes made are removed.
 */
export async function seedEnvVolumes(
  ctx: CiloContext,
  rec: EnvRecord,
  home: HomeRef,
  rendered: Record<string, unknown>,
  opts: SeedOptions,
): Promise<CopyReport[]> {
  let snapshot = opts.snapshot;
  let temporary = false;
  if (!snapshot && opts.fromEnv) {
    const source = findEnv(readState(ctx), opts.fromEnv, rec.project);
    snapshot = `seed-${source.name}-${randomBytes(4).toString("hex")}`;
    await createSnapshot(ctx, { env: `${source.project}/${source.name}`, name: snapshot, ...(opts.method ? { method: opts.method } : {}) });
    temporary = true;
  }
  if (!snapshot) return [];
  try {
    const manifest = readSnapshot(ctx.home, snapshot);
    const provider = await ctx.provider();
    const specs = volumeSpecs(rendered, rec);
    const made: string[] = [];
    const reports: CopyReport[] = [];
    try {
      for (const sv of manifest.volumes) {
        const spec = specs.get(sv.key);
        if (!spec) {
          ctx.log.warn(`The snapshot's volume "${sv.key}" is not a volume of ${rec.project}/${rec.name}; left out`);
          continue;
        }
        if (await provider.inspectVolume(spec.name)) {
          throw usageError(`The volume ${spec.name} exists already`, `Remove it (docker volume rm ${spec.name}) or seed another env`);
        }
        opts.onProgress?.(`Seeding volume ${sv.key} from snapshot ${manifest.name}`);
        await provider.createVolume({ name: spec.name, labels: spec.labels, ...(spec.driver ? { driver: spec.driver } : {}) });
        made.push(spec.name);
        reports.push(await fillVolume(ctx, provider, home, manifest, sv, spec.name, opts.method ?? "auto", false));
      }
    } catch (e) {
      for (const v of made) await provider.removeVolume(v).catch(() => {});
      throw copyFailure(e);
    }
    return reports;
  } finally {
    if (temporary) removeSnapshot(ctx.home, snapshot);
  }
}

export interface RestoreOptions {
  env: string;
  project?: string;
  snapshot: string;
  /** Stop the services mounting the volumes for the restore (and start them again after). */
  stop?: boolean;
  method?: CopyMethod;
  onProgress?: (message: string) => void;
}

/**
 * Replaces an env's volumes with a snapshot's. Refused while a service mounting one runs, unless
 * `stop`. The data is copied beside the volume's folder and swapped in by rename (local engine);
 * through a helper container, the volume (unused by any container) is made anew and filled.
 */
export async function restoreSnapshot(ctx: CiloContext, opts: RestoreOptions): Promise<CopyReport[]> {
  const state = readState(ctx);
  const rec = findEnv(state, opts.env, opts.project);
  const home = homeRef(state, ctx.home);
  const manifest = readSnapshot(ctx.home, opts.snapshot);
  const provider = await ctx.provider();
  const existing = new Map((await keyedVolumes(provider, rec, home.id)).map((v) => [v.key, v.name]));
  const specs = volumeSpecs(await renderedModel(rec), rec);
  const targets = manifest.volumes.flatMap((sv) => {
    const name = existing.get(sv.key) ?? specs.get(sv.key)?.name;
    if (name === undefined) ctx.log.warn(`The snapshot's volume "${sv.key}" is not a volume of ${rec.project}/${rec.name}; left out`);
    return name === undefined ? [] : [{ sv, name }];
  });
  const running = (await envContainers(provider, rec, home.id)).filter(
    (c) =>
      c.state === "running" &&
      mounts(
        c,
        targets.map((t) => t.name),
      ),
  );
  if (running.length > 0 && !opts.stop) {
    throw new CiloError("E_SNAPSHOT_BUSY", `${rec.project}/${rec.name} runs services that mount these volumes (${running.map(serviceOf).join(", ")})`, {
      hint: `Add --stop to stop them for the restore, or cilo down ${rec.name} first`,
    });
  }
  const held = await holdServices(
    provider,
    rec,
    home.id,
    targets.map((t) => t.name),
    "stop",
  );
  const reports: CopyReport[] = [];
  try {
    for (const { sv, name } of targets) {
      opts.onProgress?.(`Restoring volume ${sv.key} from snapshot ${manifest.name}`);
      if (!(await provider.inspectVolume(name))) {
        const spec = specs.get(sv.key);
        await provider.createVolume({ name, labels: spec?.labels ?? composeVolumeLabels(home, rec, sv.key) });
      }
      reports.push(await fillVolume(ctx, provider, home, manifest, sv, name, opts.method ?? "auto", true));
    }
  } catch (e) {
    throw copyFailure(e);
  } finally {
    await releaseServices(provider, held);
  }
  return reports;
}

interface KeyedVolume {
  key: string;
  name: string;
}

async function keyedVolumes(provider: RuntimeProvider, rec: EnvRecord, homeId: string): Promise<KeyedVolume[]> {
  return (await envVolumes(provider, rec, homeId))
    .map((v) => ({ key: v.labels[COMPOSE_VOLUME] ?? v.name, name: v.name }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

function pickVolumes(volumes: KeyedVolume[], wanted: string[] | undefined, rec: EnvRecord): KeyedVolume[] {
  const where = `${rec.project}/${rec.name}`;
  if (volumes.length === 0) {
    throw new CiloError("E_SNAPSHOT_EMPTY", `${where} has no named volume to snapshot`, {
      hint: `Start it once (cilo up ${rec.name}) so that compose makes its volumes`,
    });
  }
  if (!wanted?.length) return volumes;
  const keys = volumes.map((v) => v.key);
  const unknown = wanted.filter((w) => !keys.includes(w));
  if (unknown.length > 0) {
    throw new CiloError("E_SNAPSHOT_EMPTY", `${where} has no volume ${unknown.map((u) => `"${u}"`).join(", ")}`, { hint: `Its volumes: ${keys.join(", ")}` });
  }
  return volumes.filter((v) => wanted.includes(v.key));
}

function mounts(c: ContainerState, names: string[]): boolean {
  return (c.volumes ?? []).some((v) => names.includes(v));
}

function serviceOf(c: ContainerState): string {
  return c.labels["com.docker.compose.service"] ?? c.name;
}

interface Held {
  id: string;
  how: "pause" | "stop";
}

/** Pauses or stops the env's running containers that mount any of `names`. */
async function holdServices(provider: RuntimeProvider, rec: EnvRecord, homeId: string, names: string[], how: "pause" | "stop"): Promise<Held[]> {
  const held: Held[] = [];
  try {
    for (const c of await envContainers(provider, rec, homeId)) {
      if (c.state !== "running" || !mounts(c, names)) continue;
      if (how === "pause") await provider.pauseContainer(c.id);
      else await provider.stopContainer(c.id);
      held.push({ id: c.id, how });
    }
  } catch (e) {
    await releaseServices(provider, held);
    throw e;
  }
  return held;
}

async function releaseServices(provider: RuntimeProvider, held: Held[]): Promise<void> {
  for (const h of held) {
    if (h.how === "pause") await provider.unpauseContainer(h.id).catch(() => {});
    else await provider.startContainer(h.id).catch(() => {});
  }
}

function helperOf(ctx: CiloContext, provider: RuntimeProvider, home: HomeRef): Helper {
  return { provider, image: ctx.env["CILO_HELPER_IMAGE"] || DEFAULT_HELPER_IMAGE, labels: helperLabels(home) };
}

/** Copies one volume into the snapshot folder being made: its data folder directly, or a tar through a helper. */
async function snapshotVolume(
  ctx: CiloContext,
  provider: RuntimeProvider,
  home: HomeRef,
  vol: KeyedVolume,
  tmp: string,
  method: CopyMethod,
): Promise<SnapshotVolume> {
  const info = await provider.inspectVolume(vol.name);
  const start = ctx.clock.now();
  const direct = method !== "tar" && reachableHere(ctx.endpoint(), info?.mountpoint);
  if (direct) {
    const dest = join(tmp, "data", vol.key);
    const done = await copyDir(info!.mountpoint!, dest, method === "auto" ? "auto" : method);
    const report = reportOf(vol.name, done.path, done.bytes, done.files, start, ctx.clock.now());
    return { key: vol.key, format: "dir", ...report, checksum: await treeChecksum(dest) };
  }
  if (method === "reflink" || method === "copy") {
    throw usageError(
      `The data of volume ${vol.name} is not reachable from this machine, so it cannot be copied with --method ${method}`,
      "Use --method tar (or auto)",
    );
  }
  const file = join(tmp, "data", `${vol.key}.tar`);
  const { bytes, checksum } = await volumeToTar(helperOf(ctx, provider, home), vol.name, file);
  return { key: vol.key, format: "tar", ...reportOf(vol.name, "tar", bytes, 0, start, ctx.clock.now()), checksum };
}

/**
 * Fills volume `name` from a snapshot's volume. `replace`: the volume may hold data, which the
 * snapshot's replaces (copied beside, swapped in by rename; or the volume made anew for tar).
 */
async function fillVolume(
  ctx: CiloContext,
  provider: RuntimeProvider,
  home: HomeRef,
  manifest: SnapshotManifest,
  sv: SnapshotVolume,
  name: string,
  method: CopyMethod,
  replace: boolean,
): Promise<CopyReport> {
  const start = ctx.clock.now();
  const data = join(snapshotDir(ctx.home, manifest.name), "data", sv.format === "tar" ? `${sv.key}.tar` : sv.key);
  if (sv.format === "tar") {
    const info = await provider.inspectVolume(name);
    if (replace) {
      const users = (await provider.listContainers({})).filter((c) => mounts(c, [name]));
      if (users.length > 0) {
        throw new CiloError(
          "E_SNAPSHOT_BUSY",
          `The volume ${name} is used by containers (${users.map(serviceOf).join(", ")}); a tar snapshot replaces it whole`,
          {
            hint: "cilo down the env first (its containers go, its volumes stay), then restore",
          },
        );
      }
      await provider.removeVolume(name);
      await provider.createVolume({ name, labels: info?.labels ?? {}, ...(info?.driver ? { driver: info.driver } : {}) });
    }
    await tarToVolume(helperOf(ctx, provider, home), data, name);
    return reportOf(name, "tar", sv.bytes, sv.files, start, ctx.clock.now());
  }
  const info = await provider.inspectVolume(name);
  if (method === "tar" || !reachableHere(ctx.endpoint(), info?.mountpoint)) {
    throw usageError(
      `The snapshot "${manifest.name}" holds folders, and the data of volume ${name} is not reachable from this machine`,
      "Take the snapshot with --method tar to use it with a remote engine or Docker Desktop",
    );
  }
  const mountpoint = info!.mountpoint!;
  const copyMethod = method === "auto" ? "auto" : method;
  if (!replace) {
    const done = await copyDir(data, mountpoint, copyMethod);
    return reportOf(name, done.path, done.bytes, done.files, start, ctx.clock.now());
  }
  const beside = `${mountpoint}.cilo-restore-${randomBytes(4).toString("hex")}`;
  const old = `${beside}-old`;
  try {
    const done = await copyDir(data, beside, copyMethod);
    renameSync(mountpoint, old);
    renameSync(beside, mountpoint);
    await rm(old, { recursive: true, force: true });
    return reportOf(name, done.path, done.bytes, done.files, start, ctx.clock.now());
  } catch (e) {
    if (!existsSync(mountpoint) && existsSync(old)) renameSync(old, mountpoint);
    await rm(beside, { recursive: true, force: true });
    throw e;
  }
}

interface VolumeSpec {
  name: string;
  labels: Record<string, string>;
  driver?: string;
}

/** The env's own (not external) volumes in its transformed model: Docker name and labels compose expects. */
function volumeSpecs(rendered: Record<string, unknown>, rec: EnvRecord): Map<string, VolumeSpec> {
  const out = new Map<string, VolumeSpec>();
  const volumes = rendered["volumes"];
  if (!isRecord(volumes)) return out;
  for (const [key, raw] of Object.entries(volumes)) {
    const v = isRecord(raw) ? raw : {};
    if (v["external"] === true || isRecord(v["external"])) continue;
    const labels = isRecord(v["labels"]) ? Object.fromEntries(Object.entries(v["labels"]).map(([k, x]) => [k, String(x)])) : {};
    out.set(key, {
      name: typeof v["name"] === "string" ? v["name"] : `${rec.docker_name}_${key}`,
      labels: { ...labels, [COMPOSE_PROJECT]: rec.docker_name, [COMPOSE_VOLUME]: key },
      ...(typeof v["driver"] === "string" ? { driver: v["driver"] } : {}),
    });
  }
  return out;
}

function composeVolumeLabels(home: HomeRef, rec: EnvRecord, key: string): Record<string, string> {
  return { ...envLabels(home, rec.project, rec.name), [COMPOSE_PROJECT]: rec.docker_name, [COMPOSE_VOLUME]: key };
}

/** The env's rendered compose file (written at create and every up), parsed. */
async function renderedModel(rec: EnvRecord): Promise<Record<string, unknown>> {
  const file = join(rec.workspace, ".cilo", "compose.yml");
  if (!existsSync(file)) return {};
  const doc = (await importYaml()).parse(readFileSync(file, "utf8")) as unknown;
  return isRecord(doc) ? doc : {};
}

/** A copy that failed on a full disk or other file error: one line, nothing half-made kept (the callers remove it). */
function copyFailure(e: unknown): unknown {
  if (e instanceof CiloError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === "ENOSPC")
    return new CiloError("E_FS_ENOSPC", "The disk is full: the copy was stopped and what it had made removed", {
      cause: e,
      hint: "Free space where snapshots are kept ($CILO_HOME/snapshots) and where the engine keeps volumes (docker system df), then run the command again",
    });
  return new CiloError("E_SNAPSHOT_COPY", `Copying the volume data failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}
