import type { CiloContext } from "../../core/context/context.ts";
import { usageError } from "../../core/errors.ts";
import { normaliseName } from "../../core/names.ts";
import { dependantsIndex } from "../../core/shared/dependants.ts";
import { envKey, type EnvRecord } from "../../core/state/schema.ts";
import { readState } from "../../core/state/store.ts";
import { table } from "../output.ts";

interface ListOptions {
  format?: string;
  json?: boolean;
  project?: string;
}

/** The JSON shape of SPEC §6a; fields may be added, never renamed. */
export function envSummary(e: EnvRecord, dependants: ReadonlyMap<string, string[]>) {
  return {
    project: e.project,
    name: e.name,
    status: e.status,
    subnet: e.subnet,
    workspace: e.workspace,
    created_at: e.created_at,
    services: e.services.map((s) => s.name),
    shared_services: e.services.filter((s) => s.shared).map((s) => s.name),
    shared_networks: e.shared_networks ?? [],
    dependants: dependants.get(envKey(e.project, e.name)) ?? [],
  };
}

export default async function list(ctx: CiloContext, opts: ListOptions): Promise<number> {
  const format = opts.json ? "json" : (opts.format ?? "table");
  if (!["table", "json", "quiet"].includes(format)) {
    throw usageError(`--format "${format}" is not one of table, json, quiet`);
  }
  const state = readState(ctx);
  const project = opts.project ? normaliseName(opts.project, "project") : undefined;
  const envs = Object.values(state.envs)
    .filter((e) => !project || e.project === project)
    .sort((a, b) => (a.project === b.project ? cmp(a.name, b.name) : cmp(a.project, b.project)));
  let out: string;
  if (format === "json") {
    const dependants = dependantsIndex(state); // once, not a scan of every env per env
    out = JSON.stringify(
      envs.map((e) => envSummary(e, dependants)),
      null,
      2,
    );
  } else if (format === "quiet") {
    out = envs.map((e) => `${e.project}/${e.name}`).join("\n");
  } else if (envs.length === 0) {
    out = "No envs. Create one with: cilo create <env> --from <project folder>";
  } else {
    out = table(
      ["PROJECT", "ENV", "STATUS", "SUBNET", "SERVICES", "CREATED"],
      envs.map((e) => [e.project, e.name, e.status, e.subnet, String(e.services.length), e.created_at.slice(0, 19).replace("T", " ")]),
    );
  }
  if (out.length > 0) process.stdout.write(`${out}\n`);
  return 0;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
