import type { CiloContext } from "../../core/context/context.ts";
import { usageError } from "../../core/errors.ts";
import { timing } from "../../core/timeline.ts";
import { startEarlyPush } from "../../core/env/sync-early.ts";
import type { SyncResult } from "../../core/host/remote-workspace.ts";
import type { EarlyStart } from "../early-start.ts";
import { printJson, println, warn } from "../output.ts";

interface SyncOptions {
  pull?: boolean;
  full?: boolean;
  watch?: boolean;
  project?: string;
  json?: boolean;
}

function line(r: SyncResult, changes?: number): string {
  const what = r.direction === "push" ? `Pushed ${r.local} → host ${r.host}:${r.remote}` : `Pulled host ${r.host}:${r.remote} → ${r.local}`;
  return `${what} (${(r.ms / 1000).toFixed(1)} s${changes ? `, ${changes} change${changes === 1 ? "" : "s"}` : ""})`;
}

/**
 * `cilo sync <env> [--pull] [--watch]`: an env's workspace to (or from) its host (docs/remote.md).
 * `begun`: what the entry began before this module loaded (early-start.ts); else sync begins it here.
 */
export default async function sync(ctx: CiloContext, env: string, opts: SyncOptions, begun?: EarlyStart): Promise<number> {
  const project = opts.project ? { project: opts.project } : {};
  if (opts.watch) return watch(ctx, env, project, opts);
  // The push begins before the rest of sync loads (core/env/sync-early.ts): the static imports
  // above stay light, sync-env.ts and what it needs are imported after. Its receiver is cancelled
  // (a no-op once the push took it) however sync ends: unfed, it would keep this process alive.
  timing(ctx.env, "sync: start");
  const loading = import("../../core/env/sync-env.ts");
  loading.catch(() => {}); // awaited below
  const push = { ref: env, ...project, ...(opts.pull ? { pull: true } : {}), ...(opts.full ? { full: true } : {}) };
  const early = begun?.command === "sync" ? begun.push : await startEarlyPush(ctx, push);
  timing(ctx.env, "sync: listing and receiver begun");
  let r: SyncResult;
  try {
    const { syncEnv } = await loading;
    timing(ctx.env, "sync: modules loaded");
    r = await syncEnv(ctx, { ...push, ...(early ? { early } : {}) });
  } finally {
    early?.receiver?.cancel();
  }
  timing(ctx.env, "sync: pushed");
  if (opts.json) printJson(r);
  else println(line(r));
  return 0;
}

/** `cilo sync <env> --watch`: a push now and after each burst of edits, until SIGINT or SIGTERM. */
async function watch(ctx: CiloContext, env: string, project: { project?: string }, opts: SyncOptions): Promise<number> {
  if (opts.pull) throw usageError("--watch pushes local edits; it does not go with --pull", "cilo sync <env> --pull once, or cilo sync <env> --watch");
  const { watchSync } = await import("../../core/env/sync-env.ts");
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await watchSync(ctx, {
      ref: env,
      ...project,
      signal: stop.signal,
      onSync: (r, changes) => (opts.json ? println(JSON.stringify({ ...r, changes })) : println(line(r, changes))),
      onError: (e) => warn(`sync failed (the next change tries again): ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`),
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return 0;
}
