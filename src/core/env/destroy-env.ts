import { existsSync } from "node:fs";
import { runCompose } from "../compose/compose-cli.ts";
import { failpoint } from "../failpoint.ts";
import { isHomeResource } from "../labels.ts";
import { envContainers, envNetworks, envVolumes } from "../runtime/env-resources.ts";
import { envKey, type EnvRecord } from "../state/schema.ts";
import { readState, withState } from "../state/store.ts";
import { releaseShared } from "../shared/shared-instance.ts";
import { guardDependants } from "../shared/shared-networks.ts";
import { ownWorkspace, planWorkspaceRemoval, removePlannedWorkspace, type DestroyNotice, type WorkspacePlan } from "./destroy-workspace.ts";
import { envComposeTarget, renderedComposePath } from "./env-compose.ts";
import { currentProject } from "../config/current-project.ts";
import { findEnv, lookupEnv } from "../state/find-env.ts";
import { refreshDns } from "./refresh-dns.ts";
import { getCompose, getProvider } from "../runtime/runtime.ts";
import { detachGateway, syncGateway } from "../gateway/gateway.ts";
import { removeForwards } from "../forward/forwarder.ts";
import { ciloHome } from "../paths.ts";

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
export async function destroyEnv(opts: DestroyEnvOptions): Promise<EnvRecord | undefined> {
  const project = await currentProject(opts.project);
  const before = readState();
  const target = opts.force ? lookupEnv(before, opts.ref, project) : findEnv(before, opts.ref, project);
  const plan = target && !opts.keepWorkspace ? await planWorkspaceRemoval(target, { ref: opts.ref, discard: !!opts.discardWork }) : undefined;
  if (target) await guardDependants(before, target, "destroy", !!opts.force);
  const rec = await withState((state) => {
    const r = opts.force ? lookupEnv(state, opts.ref, project) : findEnv(state, opts.ref, project);
    if (!r) return undefined;
    r.status = "destroying";
    r.operation = { kind: "destroy", pid: process.pid, started_at: new Date().toISOString() };
    return { ...r };
  });
  if (!rec) return undefined;
  await removeEnvResources(rec, { ...opts, ...(plan ? { workspace: plan } : {}) });
  if (before.shared?.[rec.project]) await releaseShared(rec.project, rec.name);
  failpoint("destroy:resources-removed");
  await withState((state) => {
    delete state.envs[envKey(rec.project, rec.name)];
  });
  await refreshDns();
  await syncGateway(await getProvider(), ciloHome());
  return rec;
}

/** Removes what an env has in Docker and on disk. Safe to call again after an interruption. */
export async function removeEnvResources(
  rec: EnvRecord,
  opts: { keepWorkspace?: boolean; onOutput?: (chunk: string) => void; workspace?: WorkspacePlan; onNotice?: DestroyNotice } = {},
): Promise<void> {
  const provider = await getProvider();
  await provider.ping();
  // compose down -v removes the volumes the file names: only a file cilo rendered in the env's own
  // folder is trusted with that (a state edited to point elsewhere would hand it any file).
  await detachGateway(provider, readState().home_id, rec.docker_name);
  await removeForwards(provider, readState().home_id, rec);
  const own = ownWorkspace(rec);
  if (own.left.length === 0 && own.path !== undefined && !own.link && existsSync(renderedComposePath(rec))) {
    const cli = await getCompose();
    // compose removes what it made; the label sweep below catches anything it missed.
    await runCompose(cli, envComposeTarget(rec), ["down", "-v", "--remove-orphans", "--timeout", "5"], opts.onOutput ? { onOutput: opts.onOutput } : {});
  }
  const homeId = readState().home_id;
  for (const c of await envContainers(provider, rec, homeId)) await provider.removeContainer(c.id);
  const nets = await envNetworks(provider, rec, homeId);
  // The env network by name too (compose makes it; a label sweep alone misses an unlabelled one).
  // Its name holds this home's id, or is an env's that predates ids.
  const byName = (await provider.listNetworks()).filter(
    (n) => n.name === rec.docker_name && !nets.some((x) => x.id === n.id) && isHomeResource(n.labels, homeId),
  );
  for (const n of [...nets, ...byName]) await provider.removeNetwork(n.id);
  for (const v of await envVolumes(provider, rec, homeId)) await provider.removeVolume(v.name);
  if (!opts.keepWorkspace) {
    const plan = opts.workspace ?? (await planWorkspaceRemoval(rec, { ref: envKey(rec.project, rec.name), discard: true }));
    await removePlannedWorkspace(rec, plan, opts.onNotice);
  }
}
