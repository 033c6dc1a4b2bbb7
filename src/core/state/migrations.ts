import { createHash, randomBytes } from "node:crypto";
import { realpathSync } from "node:fs";
import { CiloError, ExitCode } from "../errors.ts";
import { legacyEnvDockerName } from "../labels.ts";
import { DEFAULT_CONFIG, STATE_VERSION, type EnvRecord, type EnvStatus, type State } from "./schema.ts";

/**
 * One migration per schema version: `migrations[n]` turns a version-n document into version n+1.
 * Version 0 is the unversioned file of the earlier Go implementation:
 * `{ "environments": { "<name>": { project, subnet, status, path, created_at } }, "dns_port"?, "subnet_base"? }`.
 */
const migrations: Record<number, (doc: any, ctx: MigrationContext) => any> = {
  0: migrateV0toV1,
  1: migrateV1toV2,
  2: (doc) => ({ ...doc, version: 3 }),
};

/**
 * The first schema whose `state.json` is an index with each env's record in its own file
 * (docs/state.md, "Layout"). In memory the state keeps one shape; schema 2 → 3 changes only where
 * envs are kept, so the step above only renumbers: the store writes the new layout.
 */
export const LAYOUT_VERSION = 3;

export interface MigrationContext {
  /** The home folder the file belongs to: a migrated home's id is derived from it. */
  homeDir?: string;
}

/** A new home's id: 8 random lower-case hex digits. */
export function newHomeId(): string {
  return randomBytes(4).toString("hex");
}

/**
 * The id of a home made before homes had ids, derived from its folder, so every process reading
 * the not yet rewritten file agrees on it (the first write keeps it).
 */
export function derivedHomeId(homeDir: string): string {
  let dir = homeDir;
  try {
    dir = realpathSync(homeDir);
  } catch {
    // a folder that is gone keeps its spelled path
  }
  return createHash("sha256").update(dir).digest("hex").slice(0, 8);
}

export function migrate(doc: any, ctx: MigrationContext = {}): { state: State; migrated: boolean } {
  let version = typeof doc?.version === "number" ? doc.version : 0;
  if (version > STATE_VERSION) {
    throw new CiloError("E_STATE_VERSION", `The state file has schema version ${version}, newer than this cilo understands (${STATE_VERSION})`, {
      exitCode: ExitCode.prerequisite,
      hint: "Upgrade cilo",
    });
  }
  const migrated = version < STATE_VERSION;
  while (version < STATE_VERSION) {
    const step = migrations[version];
    if (!step) throw new CiloError("E_STATE_VERSION", `No migration from state schema version ${version}`);
    doc = step(doc, ctx);
    version = doc.version;
  }
  return { state: doc as State, migrated };
}

function migrateV0toV1(doc: any): any {
  const now = new Date().toISOString();
  const envs: Record<string, EnvRecord> = {};
  const old = doc && typeof doc.environments === "object" && doc.environments !== null ? doc.environments : {};
  for (const [name, raw] of Object.entries<any>(old)) {
    const project = String(raw?.project ?? "default").toLowerCase();
    const envName = String(raw?.name ?? name).toLowerCase();
    const status: EnvStatus = raw?.status === "running" ? "running" : raw?.status === "stopped" ? "stopped" : "created";
    envs[`${project}/${envName}`] = {
      project,
      name: envName,
      status,
      subnet: String(raw?.subnet ?? ""),
      workspace: String(raw?.path ?? raw?.workspace ?? ""),
      created_at: String(raw?.created_at ?? now),
      updated_at: now,
      services: [],
    } as Omit<EnvRecord, "docker_name"> as EnvRecord;
  }
  return {
    version: 1,
    config: {
      ...DEFAULT_CONFIG,
      ...(typeof doc?.dns_port === "number" ? { dns_port: doc.dns_port } : {}),
    },
    envs,
  };
}

/**
 * Schema 2 gives the home an id (labels and Docker names carry it). Envs made before keep their
 * Docker names (`cilo_<project>_<env>`), recorded in `docker_name`; shared instances keep theirs in
 * `network`, which is also their compose project name.
 */
function migrateV1toV2(doc: any, ctx: MigrationContext): any {
  const envs: Record<string, unknown> = {};
  for (const [key, rec] of Object.entries<any>(doc?.envs ?? {})) {
    envs[key] =
      rec && typeof rec === "object" && rec.docker_name === undefined
        ? { ...rec, docker_name: legacyEnvDockerName(String(rec.project), String(rec.name)) }
        : rec;
  }
  const homeId = typeof doc?.home_id === "string" ? doc.home_id : ctx.homeDir ? derivedHomeId(ctx.homeDir) : newHomeId();
  const { version: _v, ...rest } = doc ?? {};
  return { version: 2, home_id: homeId, ...rest, envs };
}
