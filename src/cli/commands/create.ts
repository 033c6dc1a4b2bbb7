import type { CiloContext } from "../../core/context/context.ts";
import { createEnv } from "../../core/env/create-env.ts";
import { envView } from "../../core/env/env-view.ts";
import { readState } from "../../core/state/store.ts";
import { usageError } from "../../core/errors.ts";
import { parseTtl } from "../../core/duration.ts";
import type { CopyProgress } from "../../core/workspace/index.ts";
import { notice, printJson, println, warn } from "../output.ts";
import { formatCopyDone, formatCopyProgress, LiveLine } from "../progress.ts";
import { copyMethod, describeCopy } from "./snapshot.ts";

interface CreateOptions {
  project?: string;
  from?: string;
  git?: string;
  ref?: string;
  clone?: string;
  include?: string | string[];
  ephemeral?: boolean;
  ttl?: string | number;
  sharedNetwork?: string | string[];
  seed?: string;
  seedFrom?: string;
  seedMethod?: string;
  on?: string;
  json?: boolean;
}

export default async function create(ctx: CiloContext, env: string, opts: CreateOptions): Promise<number> {
  if (opts.clone !== undefined && !["copy", "reflink", "worktree"].includes(opts.clone)) {
    throw usageError(`--clone "${opts.clone}" is not one of copy, reflink, worktree`);
  }
  if (opts.git && opts.from) throw usageError("Use either --from or --git, not both");
  if (opts.ref && !opts.git) throw usageError("--ref goes with --git");
  const ttlMs = opts.ttl !== undefined ? parseTtl(String(opts.ttl)) : undefined;
  const include = opts.include === undefined ? [] : Array.isArray(opts.include) ? opts.include.map(String) : [String(opts.include)];
  const seedMethod = opts.seedMethod === undefined ? undefined : copyMethod(String(opts.seedMethod), "--seed-method");
  // A live line of the copy's progress on a terminal only; piped output gets nothing extra.
  const copying = process.stderr.isTTY ? new LiveLine<CopyProgress>(formatCopyProgress, { write: (s) => process.stderr.write(s) }) : undefined;
  const endCopy = () => copying?.end(formatCopyDone);
  const {
    env: rec,
    notice: note,
    seeded,
  } = await createEnv(ctx, {
    ...(opts.seed !== undefined ? { seed: String(opts.seed) } : {}),
    ...(opts.seedFrom !== undefined ? { seedFrom: String(opts.seedFrom) } : {}),
    ...(seedMethod ? { seedMethod } : {}),
    ...(opts.on !== undefined ? { on: String(opts.on) } : {}),
    env,
    ...(opts.from ? { from: opts.from } : {}),
    ...(opts.git ? { git: opts.git } : {}),
    ...(opts.ref ? { ref: opts.ref } : {}),
    ...(opts.project ? { project: opts.project } : {}),
    ...(opts.clone ? { mode: opts.clone as "copy" | "reflink" | "worktree" } : {}),
    ...(include.length ? { include } : {}),
    ...(opts.ephemeral ? { ownerPid: process.ppid } : {}),
    ...(ttlMs !== undefined ? { ttlMs } : {}),
    ...(opts.sharedNetwork !== undefined
      ? { sharedNetworks: Array.isArray(opts.sharedNetwork) ? opts.sharedNetwork.map(String) : [String(opts.sharedNetwork)] }
      : {}),
    onProgress: (message) => {
      endCopy();
      notice(message);
    },
    ...(copying ? { onCopyProgress: (p: CopyProgress) => copying.update(p) } : {}),
  }).finally(endCopy);
  if (note) warn(note);
  if (opts.json) printJson({ ...envView(ctx, readState(ctx), rec), ...(seeded ? { seeded } : {}) });
  else
    println(
      `Created ${rec.project}/${rec.name} (${rec.host ? `on host ${rec.host}, ` : ""}subnet ${rec.subnet}, workspace ${rec.workspace}${rec.remote_workspace ? ` → ${rec.remote_workspace}` : ""})`,
    );
  if (seeded && !opts.json) for (const v of seeded.volumes) println(`Seeded ${v.volume}: ${describeCopy(v)}`);
  return 0;
}
