import { watch } from "node:fs";
import type { CiloContext } from "../context/context.ts";
import { currentProjectFor } from "../config/current-project.ts";
import { usageError } from "../errors.ts";
import type { EarlyPush } from "../host/early-push.ts";
import { syncWorkspace, type SyncResult } from "../host/remote-workspace.ts";
import { findEnv } from "../state/find-env.ts";
import type { EnvRecord, State } from "../state/schema.ts";
import { readState } from "../state/store.ts";
import { touchEnv } from "./touch-env.ts";
import { envKey } from "../state/schema.ts";
import { runWatchLoop } from "./watch-loop.ts";

export interface SyncEnvOptions {
  ref: string;
  project?: string;
  /** Bring the remote workspace's files back here instead (deletes nothing here). */
  pull?: boolean;
  /** Compare the whole trees (rsync walks both) instead of what changed here since the last push. */
  full?: boolean;
  signal?: AbortSignal;
  /** The push as begun by a front end before this module loaded (sync-early.ts). */
  early?: EarlyPush;
}

/** The env of `ref`, refused (exit 2) unless it runs on a host. */
async function remoteEnv(ctx: CiloContext, opts: { ref: string; project?: string }): Promise<{ rec: EnvRecord; state: State }> {
  const state = readState(ctx);
  const rec = findEnv(state, opts.ref, await currentProjectFor(opts.ref, opts.project, ctx.cwd));
  if (!rec.host) {
    throw usageError(`The env ${rec.project}/${rec.name} runs on this machine: its workspace is the one its containers mount, there is nothing to sync`);
  }
  return { rec, state };
}

/** `cilo sync <env> [--pull]`: one push of the local workspace to the env's host (or a pull back). docs/remote.md. */
export async function syncEnv(ctx: CiloContext, opts: SyncEnvOptions): Promise<SyncResult> {
  const { rec, state } = await remoteEnv(ctx, opts);
  // No engine ping first: the push itself fails with the one-line exit 3 naming the host (ssh's or
  // the engine's own reason) before anything is recorded.
  const r = await syncWorkspace(ctx, state, rec, {
    ...(opts.pull ? { pull: true } : {}),
    ...(opts.full ? {} : { incremental: true }),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.early ? { early: opts.early } : {}),
  });
  // Use is recorded at most once a minute (gc --idle counts in minutes at least): a push every few
  // seconds (an agent's loop) does not take the state lock each time.
  if (!recentlyUsed(rec, ctx.clock.now())) await touchEnv(ctx, envKey(rec.project, rec.name));
  return r;
}

function recentlyUsed(rec: EnvRecord, now: number): boolean {
  const at = rec.last_used_at ? Date.parse(rec.last_used_at) : Number.NaN;
  return Number.isFinite(at) && now - at >= 0 && now - at < 60_000;
}

export interface WatchSyncOptions {
  ref: string;
  project?: string;
  /** Quiet time after the last change before a push (default 150 ms). */
  debounceMs?: number;
  /** A burst that never goes quiet is pushed at least this often (default 1 s). */
  maxWaitMs?: number;
  signal: AbortSignal;
  onSync?: (r: SyncResult, changes: number) => void;
  /** A failed push while watching (the next change tries again); default: rethrown. */
  onError?: (e: unknown) => void;
}

/**
 * `cilo sync <env> --watch`: a push now, then one after each burst of edits (an agent writing
 * many files is one push): the push waits for `debounceMs` of quiet, or `maxWaitMs` since the
 * first change of the burst; changes during a push make one more push after it. The watcher is
 * live before the first push (watch-loop.ts). Edits under `.cilo/` (cilo's rendered file) do not
 * count. Returns when `signal` aborts.
 */
export async function watchSync(ctx: CiloContext, opts: WatchSyncOptions): Promise<void> {
  const { rec } = await remoteEnv(ctx, opts);
  await runWatchLoop({
    debounceMs: opts.debounceMs ?? 150,
    maxWaitMs: opts.maxWaitMs ?? 1000,
    signal: opts.signal,
    ignored: (name) => name === ".cilo" || name.startsWith(".cilo/") || name.includes("/.~tmp~") || name.startsWith(".~tmp~"),
    watch: (onChange, onError) => {
      const watcher = watch(rec.workspace, { recursive: true }, (_event, file) => onChange(typeof file === "string" ? file : ""));
      watcher.on("error", onError);
      return watcher;
    },
    push: async (changes) => {
      try {
        opts.onSync?.(await syncWorkspace(ctx, readState(ctx), rec, { signal: opts.signal, incremental: true }), changes);
      } catch (e) {
        if (opts.signal.aborted) return;
        if (!opts.onError) throw e;
        opts.onError(e);
      }
    },
    ...(opts.onError ? { onWatchError: opts.onError } : {}),
  });
}
