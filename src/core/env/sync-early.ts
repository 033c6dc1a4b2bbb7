import { currentProjectFor } from "../config/current-project.ts";
import type { CiloContext } from "../context/context.ts";
import { remoteWorkspaceProblem } from "../host-address.ts";
import { type EarlyPush, startReceiver } from "../host/early-push.ts";
import { readCiloignore, startListing, systemFind } from "../host/find-listing.ts";
import { hasPushManifestFor, pushTarget } from "../host/push-manifest.ts";
import { sshTarget } from "../host/remote-paths.ts";
import { stageName } from "../host/sync-script.ts";
import { findEnv } from "../state/find-env.ts";
import { readState } from "../state/store.ts";

/*
 * The first step of `cilo sync <env>`, in a module of its own so that it loads without the rest of
 * sync (remote-workspace.ts and what it needs: ~30 ms of loading). The listing of a 10,000-file
 * workspace (GNU find) and the ssh session of the push's receiver take about as long: begun here,
 * they run while the rest loads (docs/performance.md, "cilo sync").
 */

/**
 * For a front end that has not loaded sync yet (the CLI): the push of the env named by `opts`
 * begun, when that env runs on an ssh:// host and the push is an incremental one (not `--pull`,
 * `--full` or `--watch`): the listing of its workspace, and, when the manifest of the last push
 * is for that host and remote workspace, ssh with the receiver waiting for the tar. Else, or on any
 * error, undefined. The push takes each part only if it is for the workspace, `.ciloignore`,
 * remote workspace and ssh target it finds itself (`syncWorkspace`), and cancels the receiver
 * otherwise; the caller cancels it (a no-op once taken) when the push ends or fails.
 */
export async function startEarlyPush(
  local: CiloContext,
  opts: { ref: string; project?: string; pull?: boolean; full?: boolean; watch?: boolean },
): Promise<EarlyPush | undefined> {
  if (opts.pull || opts.full || opts.watch) return undefined;
  try {
    const state = readState(local);
    const rec = findEnv(state, opts.ref, await currentProjectFor(opts.ref, opts.project, local.cwd));
    const address = rec.host ? state.hosts?.[rec.host]?.address : undefined;
    if (!address?.startsWith("ssh://")) return undefined;
    const ignoreText = readCiloignore(rec.workspace);
    const listing = startListing(rec.workspace, ignoreText, systemFind(local.env, local.home));
    const remote = rec.remote_workspace;
    const receiver =
      remote && remoteWorkspaceProblem(remote, rec.project, rec.name) === undefined && hasPushManifestFor(rec.workspace, pushTarget(address, remote))
        ? startReceiver(local.env, sshTarget(address), remote, stageName(Date.now(), Math.random()))
        : undefined;
    return { workspace: rec.workspace, ignoreText, listing, ...(receiver ? { receiver } : {}) };
  } catch {
    return undefined; // the push reports it, in its order
  }
}
