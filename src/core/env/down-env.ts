import type { CiloContext } from "../context/context.ts";
import { existsSync } from "node:fs";
import { CiloError } from "../errors.ts";
import { composeFailure } from "../compose/compose-cli.ts";
import { envKey, type EnvRecord } from "../state/schema.ts";
import { readState, withState } from "../state/store.ts";
import { releaseShared } from "../shared/shared-instance.ts";
import { guardDependants } from "../shared/shared-networks.ts";
import { envComposeTarget, renderedComposePath } from "./compose-target.ts";
import { currentProject } from "../config/current-project.ts";
import { assertSameEngine } from "./engine-guard.ts";
import { findEnv } from "../state/find-env.ts";
import { refreshDns } from "../dns/dns.ts";
import { detachGateway } from "../gateway/gateway.ts";
import { syncEnvGateways } from "../forward/remote-names.ts";
import { stopTunnel } from "../forward/tunnel.ts";
import { removeForwards } from "../forward/forwarder.ts";
import { reachEnv } from "./env-context.ts";

export interface DownEnvOptions {
  ref: string;
  project?: string;
  /** Down it even if other envs join its network (they are detached first). */
  force?: boolean;
  onOutput?: (chunk: string) => void;
}

/** Stops an env: `compose down` (containers and network go; volumes and workspace stay). */
export async function downEnv(local: CiloContext, opts: DownEnvOptions): Promise<EnvRecord> {
  const project = await currentProject(opts.project, local.cwd);
  const ctx = await reachEnv(local, findEnv(readState(local), opts.ref, project));
  const provider = await ctx.provider();
  const engine = (await provider.ping()).engine;
  const before = readState(ctx);
  assertSameEngine(findEnv(before, opts.ref, project), engine);
  await guardDependants(ctx, before, findEnv(before, opts.ref, project), "down", !!opts.force);
  const rec = await withState(ctx, (state) => {
    const r = findEnv(state, opts.ref, project);
    r.operation = { kind: "down", pid: process.pid, started_at: new Date(ctx.clock.now()).toISOString() };
    return { ...r };
  });
  const key = envKey(rec.project, rec.name);
  await detachGateway(ctx, before.home_id, rec.docker_name);
  await removeForwards(ctx, before.home_id, rec);
  if (rec.host) stopTunnel(local.home, rec); // its names and TCP forwards on this machine
  if (existsSync(renderedComposePath(rec))) {
    const cli = await ctx.compose();
    const r = await ctx.runCompose(cli, envComposeTarget(rec), ["down", "--remove-orphans"], opts.onOutput ? { onOutput: opts.onOutput } : {});
    if (r.code !== 0) {
      await clearOperation(ctx, key);
      throw composeFailure(`Stopping ${key} failed`, r, { during: "down" });
    }
  }
  if (before.shared?.[rec.project]) await releaseShared(ctx, rec.project, rec.name);
  const done = await withState(ctx, (state) => {
    const cur = state.envs[key];
    if (!cur) throw new CiloError("E_ENV_VANISHED", `The env ${key} was destroyed meanwhile`);
    cur.status = "stopped";
    delete cur.shared_services;
    cur.services = cur.services.map(({ ip: _ip, health: _h, state: _s, ...rest }) => ({ ...rest, state: "stopped" }));
    cur.updated_at = new Date(ctx.clock.now()).toISOString();
    cur.last_used_at = cur.updated_at;
    delete cur.operation;
    return { ...cur };
  });
  await refreshDns(local, key);
  await syncEnvGateways(local, rec.host);
  return done;
}

async function clearOperation(ctx: CiloContext, key: string): Promise<void> {
  await withState(ctx, (state) => {
    const cur = state.envs[key];
    if (cur) delete cur.operation;
  }).catch(() => {});
}
