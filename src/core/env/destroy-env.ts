import type { CiloContext } from "../context/context.ts";
import { assertSameEngine } from "./engine-guard.ts";
import { existsSync, readFileSync } from "node:fs";
import { stopGraces } from "../compose/stop-grace.ts";
import { importYaml } from "../vendor.ts";
import { failpoint } from "../failpoint.ts";
import { isHomeResource } from "../labels.ts";
import { envContainers, envNetworks, envVolumes } from "../runtime/env-resources.ts";
import { envKey, type EnvRecord } from "../state/schema.ts";
import { qualifiedEnv } from "../names.ts";
import { readState, withState } from "../state/store.ts";
import { releaseShared } from "../shared/shared-instance.ts";
import { dropDatabasesOf } from "../shared/per-env-db.ts";
import { guardDependants } from "../shared/shared-networks.ts";
import { ownWorkspace, planWorkspaceRemoval, removePlannedWorkspace, type DestroyNotice, type WorkspacePlan } from "./destroy-workspace.ts";
import { envComposeTarget, renderedComposePath } from "./compose-target.ts";
import { currentProject } from "../config/current-project.ts";
import { findEnv, lookupEnv } from "../state/find-env.ts";
import { refreshDns } from "../dns/dns.ts";
import { detachGateway } from "../gateway/gateway.ts";
import { syncEnvGateways } from "../forward/remote-names.ts";
import { stopTunnel } from "../forward/tunnel.ts";
import { removeForwards } from "../forward/forwarder.ts";
import { removeRemoteWorkspace } from "../host/remote-workspace.ts";
import { reachEnv } from "./env-context.ts";
import { timing } from "../timeline.ts";

export interface DestroyEnvOptions {
  ref: string;
  project?: string;
  /** A missing env is a no-op instead of an error. */
  force?: boolean;
  keepWorkspace?: boolean;
  /**
   * Delete a worktree's or clone's uncommitted files and the commits nothing else keeps (a
   * `cilo/<env>` branch not merged anywhere, a clone's unpushed commits) instead of refusing with
   * exit 2; the lost tip is told through `onNotice`.
   */
  discardWork?: boolean;
  onOutput?: (chunk: string) => void;
  /** Lines for the user: where lost work can be recovered from, a path left alone. */
  onNotice?: DestroyNotice;
}

/**
 * Destroys an env: its containers, network and named volumes (everything labelled with it), the
 * workspace (and the worktree branch it made) unless kept, and its state entry, which releases the
 * subnet. Nothing of any other env is touched. Returns the removed record, or undefined when
 * `force` and there was none. Work the workspace would lose is checked first: without
 * `discardWork` it is refused before anything is torn down. Only the env's own folder under
 * `$CILO_HOME/envs/` is ever deleted (see `ownWorkspace`).
 */
export async function destroyEnv(local: CiloContext, opts: DestroyEnvOptions): Promise<EnvRecord | undefined> {
  timing(local.env, "destroy: start");
  const project = await currentProject(opts.project, local.cwd);
  const before = readState(local);
  const target = opts.force ? lookupEnv(before, opts.ref, project) : findEnv(before, opts.ref, project);
  // An env on a host is torn down on its engine; one that does not answer is exit 3, nothing changed.
  const ctx = target ? await reachEnv(local, target) : local;
  const plan = target && !opts.keepWorkspace ? await planWorkspaceRemoval(ctx, target, { ref: opts.ref, discard: !!opts.discardWork }) : undefined;
  if (target) await guardDependants(ctx, before, target, "destroy", !!opts.force);
  // An env on another engine is refused before it is marked as being destroyed.
  if (target?.engine) assertSameEngine(target, (await (await ctx.provider()).ping()).engine);
  const rec = await withState(ctx, (state) => {
    const r = opts.force ? lookupEnv(state, opts.ref, project) : findEnv(state, opts.ref, project);
    if (!r) return undefined;
    r.status = "destroying";
    r.operation = { kind: "destroy", pid: process.pid, started_at: new Date(ctx.clock.now()).toISOString() };
    return { ...r };
  });
  if (!rec) return undefined;
  timing(ctx.env, "destroy: marked destroying");
  await removeEnvResources(ctx, rec, { ...opts, ...(plan ? { workspace: plan } : {}) });
  // Its apps are gone, so the env's databases on the shared servers have no users of its own left.
  timing(ctx.env, "destroy: resources removed");
  await dropDatabasesOf(ctx, rec);
  if (before.shared?.[rec.project]) await releaseShared(ctx, rec.project, rec.name);
  failpoint(ctx.env, "destroy:resources-removed");
  await withState(ctx, (state) => {
    delete state.envs[envKey(rec.project, rec.name)];
  });
  timing(ctx.env, "destroy: record removed");
  await refreshDns(local, envKey(rec.project, rec.name));
  timing(ctx.env, "destroy: dns refreshed");
  await syncEnvGateways(local, rec.host);
  timing(ctx.env, "destroy: done");
  return rec;
}

/** Removes what an env has in Docker and on disk. Safe to call again after an interruption. */
export async function removeEnvResources(
  ctx: CiloContext,
  rec: EnvRecord,
  opts: { keepWorkspace?: boolean; onOutput?: (chunk: string) => void; workspace?: WorkspacePlan; onNotice?: DestroyNotice } = {},
): Promise<void> {
  const provider = await ctx.provider();
  assertSameEngine(rec, (await provider.ping()).engine);
  // The home id does not change while the env goes: read once (each readState reads state.json).
  const homeId = readState(ctx).home_id;
  await detachGateway(ctx, homeId, rec.docker_name);
  await removeForwards(ctx, homeId, rec);
  if (rec.host) stopTunnel(ctx.home, rec); // its names and TCP forwards on this machine
  timing(ctx.env, "destroy: gateway and forwards detached");
  const own = ownWorkspace(rec, ctx.home);
  if (own.left.length === 0 && own.path !== undefined && !own.link && existsSync(renderedComposePath(rec))) {
    // An env being destroyed is not coming back: its containers go at once (removed with force,
    // below), except services that asked for time (cilo.stop-timeout, stop_grace_period), which
    // get it first, in parallel. Only a file cilo rendered in the env's own folder is read for that.
    const graces = stopGraces((await importYaml()).parse(readFileSync(renderedComposePath(rec), "utf8")));
    if (graces.size > 0) {
      const cli = await ctx.compose();
      const target = envComposeTarget(rec);
      const output = opts.onOutput ? { onOutput: opts.onOutput } : {};
      await Promise.all([...graces].map(([seconds, services]) => ctx.runCompose(cli, target, ["stop", "--timeout", String(seconds), ...services], output)));
    }
  }
  // No `compose down`: everything compose made for the env carries cilo's labels (the rendered
  // file puts them on every service, network and volume), so the engine removes it directly,
  // without a compose process (about a second of start-up for v1). A container removed with
  // force is killed at once, and its anonymous volumes go with it.
  timing(ctx.env, "destroy: graces given");
  await Promise.all((await envContainers(provider, rec, homeId)).map((c) => provider.removeContainer(c.id)));
  const nets = await envNetworks(provider, rec, homeId);
  // The env network by name too (compose makes it; a label sweep alone misses an unlabelled one).
  // Its name holds this home's id, or is an env's that predates ids.
  const byName = (await provider.listNetworks()).filter(
    (n) => n.name === rec.docker_name && !nets.some((x) => x.id === n.id) && isHomeResource(n.labels, homeId),
  );
  for (const n of [...nets, ...byName]) await provider.removeNetwork(n.id);
  await Promise.all((await envVolumes(provider, rec, homeId)).map((v) => provider.removeVolume(v.name)));
  timing(ctx.env, "destroy: containers, networks, volumes swept");
  if (!opts.keepWorkspace) {
    // The remote copy first: the record still names it (a failure leaves the env to destroy again).
    if (rec.host) await removeRemoteWorkspace(ctx, readState(ctx), rec);
    const plan = opts.workspace ?? (await planWorkspaceRemoval(ctx, rec, { ref: qualifiedEnv(rec.project, rec.name), discard: true }));
    await removePlannedWorkspace(ctx, rec, plan, opts.onNotice);
  }
}
