import type { CiloContext } from "../../core/context/context.ts";
import { currentProject } from "../../core/config/current-project.ts";
import { usageError } from "../../core/errors.ts";
import { downShared, sharedGraceMs } from "../../core/shared/shared-instance.ts";
import { dependantsIndex } from "../../core/shared/dependants.ts";
import { readState } from "../../core/state/store.ts";
import { printJson, println, table } from "../output.ts";

interface SharedOptions {
  project?: string;
  force?: boolean;
  json?: boolean;
}

/** `cilo shared list|down`: the services a project's envs share, and who uses them (SPEC §8). */
export default async function shared(ctx: CiloContext, action: string, service: string | undefined, opts: SharedOptions): Promise<number> {
  if (action === "list") return list(ctx, opts);
  if (action === "down") {
    if (!service) throw usageError("cilo shared down needs the service to stop");
    const project = await currentProject(opts.project, ctx.cwd);
    if (!project) throw usageError("Which project? Run this in the project folder or pass --project");
    const detached = await downShared(ctx, project, service, { force: !!opts.force });
    if (opts.json) {
      printJson({ schema_version: 1, project, service, stopped: true, detached });
      return 0;
    }
    println(`Stopped the shared service ${project}/${service}${detached.length ? `; detached ${detached.join(", ")}` : ""}`);
    return 0;
  }
  throw usageError(`Unknown shared action "${action}"`, "Use one of: list, down");
}

function list(ctx: CiloContext, opts: SharedOptions): number {
  const state = readState(ctx);
  const rows = Object.values(state.shared ?? {})
    .filter((inst) => !opts.project || inst.project === opts.project)
    .flatMap((inst) =>
      Object.entries(inst.services).map(([name, svc]) => ({
        project: inst.project,
        service: name,
        network: inst.network,
        subnet: inst.subnet,
        users: svc.users,
        ...(svc.idle_since ? { idle_since: svc.idle_since } : {}),
      })),
    );
  const dependants = dependantsIndex(state);
  const envNetworks = Object.values(state.envs)
    .map((e) => ({ env: `${e.project}/${e.name}`, dependants: dependants.get(`${e.project}/${e.name}`) ?? [] }))
    .filter((x) => x.dependants.length > 0);
  if (opts.json) {
    printJson({ services: rows, shared_networks: envNetworks, grace_ms: sharedGraceMs(ctx.env) });
    return 0;
  }
  if (rows.length === 0 && envNetworks.length === 0) {
    println('Nothing is shared. Mark a service with the label cilo.share: "true", list it under shared: in the config, or use cilo up --share <service>.');
    return 0;
  }
  if (rows.length > 0) {
    println(
      table(
        ["PROJECT", "SERVICE", "USERS", "STATE"],
        rows.map((r) => [r.project, r.service, r.users.join(", ") || "-", r.users.length ? "in use" : `idle since ${r.idle_since ?? "?"}`]),
      ),
    );
  }
  if (envNetworks.length > 0) {
    if (rows.length > 0) println();
    println(
      table(
        ["ENV NETWORK", "JOINED BY"],
        envNetworks.map((x) => [x.env, x.dependants.join(", ")]),
      ),
    );
  }
  return 0;
}
