import type { CiloContext } from "../../core/context/context.ts";
import { createEnv } from "../../core/env/create-env.ts";
import { envView } from "../../core/env/env-view.ts";
import { readState } from "../../core/state/store.ts";
import { usageError } from "../../core/errors.ts";
import { notice, printJson, println, warn } from "../output.ts";

interface CreateOptions {
  project?: string;
  from?: string;
  git?: string;
  ref?: string;
  clone?: string;
  include?: string | string[];
  ephemeral?: boolean;
  sharedNetwork?: string | string[];
  json?: boolean;
}

export default async function create(ctx: CiloContext, env: string, opts: CreateOptions): Promise<number> {
  if (opts.clone !== undefined && !["copy", "reflink", "worktree"].includes(opts.clone)) {
    throw usageError(`--clone "${opts.clone}" is not one of copy, reflink, worktree`);
  }
  if (opts.git && opts.from) throw usageError("Use either --from or --git, not both");
  if (opts.ref && !opts.git) throw usageError("--ref goes with --git");
  const include = opts.include === undefined ? [] : Array.isArray(opts.include) ? opts.include.map(String) : [String(opts.include)];
  const { env: rec, notice: note } = await createEnv(ctx, {
    env,
    ...(opts.from ? { from: opts.from } : {}),
    ...(opts.git ? { git: opts.git } : {}),
    ...(opts.ref ? { ref: opts.ref } : {}),
    ...(opts.project ? { project: opts.project } : {}),
    ...(opts.clone ? { mode: opts.clone as "copy" | "reflink" | "worktree" } : {}),
    ...(include.length ? { include } : {}),
    ...(opts.ephemeral ? { ownerPid: process.ppid } : {}),
    ...(opts.sharedNetwork !== undefined
      ? { sharedNetworks: Array.isArray(opts.sharedNetwork) ? opts.sharedNetwork.map(String) : [String(opts.sharedNetwork)] }
      : {}),
    onProgress: notice,
  });
  if (note) warn(note);
  if (opts.json) printJson(envView(ctx, readState(ctx), rec));
  else println(`Created ${rec.project}/${rec.name} (subnet ${rec.subnet}, workspace ${rec.workspace})`);
  return 0;
}
