import { CiloError, ExitCode } from "../errors.ts";
import { DEFAULT_CONFIG, STATE_VERSION, type EnvRecord, type EnvStatus, type State } from "./schema.ts";

/**
 * One migration per schema version: `migrations[n]` turns a version-n document into version n+1.
 * Version 0 is the unversioned file of the earlier Go implementation:
 * `{ "environments": { "<name>": { project, subnet, status, path, created_at } }, "dns_port"?, "subnet_base"? }`.
 */
const migrations: Record<number, (doc: any) => any> = {
  0: migrateV0toV1,
};

export function migrate(doc: any): { state: State; migrated: boolean } {
  let version = typeof doc?.version === "number" ? doc.version : 0;
  if (version > STATE_VERSION) {
    throw new CiloError(
      "E_STATE_VERSION",
      `The state file has schema version ${version}, newer than this cilo understands (${STATE_VERSION})`,
      { exitCode: ExitCode.prerequisite, hint: "Upgrade cilo" },
    );
  }
  const migrated = version < STATE_VERSION;
  while (version < STATE_VERSION) {
    const step = migrations[version];
    if (!step) throw new CiloError("E_STATE_VERSION", `No migration from state schema version ${version}`);
    doc = step(doc);
    version = doc.version;
  }
  return { state: doc as State, migrated };
}

function migrateV0toV1(doc: any): State {
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
    };
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
