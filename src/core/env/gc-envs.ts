import type { CiloContext } from "../context/context.ts";
import { messageOf } from "../errors.ts";
import { isProcessAlive } from "../proc/processes.ts";
import { envKey, type EnvRecord, type State } from "../state/schema.ts";
import { qualifiedEnv } from "../names.ts";
import { readState } from "../state/store.ts";
import { destroyEnv } from "./destroy-env.ts";
import { isExpired } from "./reaper.ts";
import { describeWork, unsavedWorkOf } from "./destroy-workspace.ts";

export interface GcOptions {
  /** Envs not used (no cilo operation on them: create, up, down, run, exec, logs, MCP tools) for longer than this are destroyed. */
  olderThanMs: number;
  /** Only say what would be destroyed. */
  dryRun?: boolean;
  now?: number;
}

export interface IdleEnv {
  env: EnvRecord;
  /** `last_used_at` (set by every operation on the env), else `created_at`. */
  lastUsed: string;
  idleMs: number;
  /** Why it is collected: unused for too long, or its TTL (`expires_at`) has run out. */
  why: "idle" | "expired";
}

export interface GcResult {
  /** Destroyed, or with `dryRun` those that would be. */
  destroyed: IdleEnv[];
  kept: (IdleEnv & { reason: string })[];
  failed: (IdleEnv & { error: string })[];
}

/** Envs idle for longer than `olderThanMs` at `now`, or whose TTL has run out, longest idle first. */
export function idleEnvs(state: State, olderThanMs: number, now: number): IdleEnv[] {
  return Object.values(state.envs)
    .map((env) => {
      const lastUsed = env.last_used_at ?? env.created_at;
      const why: IdleEnv["why"] = isExpired(env, now) ? "expired" : "idle";
      return { env, lastUsed, idleMs: now - Date.parse(lastUsed), why };
    })
    .filter((e) => e.why === "expired" || (Number.isFinite(e.idleMs) && e.idleMs > olderThanMs))
    .sort((a, b) => b.idleMs - a.idleMs || envKey(a.env.project, a.env.name).localeCompare(envKey(b.env.project, b.env.name)));
}

/**
 * `cilo gc`: destroys envs not used for a while, through `destroyEnv`. An env that is busy (an
 * operation of a live process) or whose git workspace holds work that destroy would lose
 * (uncommitted changes, commits of a worktree branch not on any other branch, unpushed commits of
 * a clone) is kept.
 */
export async function gcEnvs(ctx: CiloContext, opts: GcOptions): Promise<GcResult> {
  const result: GcResult = { destroyed: [], kept: [], failed: [] };
  for (const idle of idleEnvs(readState(ctx), opts.olderThanMs, opts.now ?? Date.now())) {
    const { env } = idle;
    const op = env.operation;
    if (op && isProcessAlive(op.pid, { startedBefore: Date.parse(op.started_at) })) {
      result.kept.push({ ...idle, reason: `${op.kind} is running (pid ${op.pid})` });
      continue;
    }
    const work = idle.why === "expired" ? undefined : await unsavedWorkOf(ctx, env).catch(() => undefined);
    if (work) {
      result.kept.push({
        ...idle,
        reason:
          work.files > 0
            ? "its workspace has uncommitted changes"
            : `its ${({ worktree: "branch", git: "clone", repo: "workspace's git repository" } as const)[work.kind]} has ${describeWork(work)}`,
      });
      continue;
    }
    if (opts.dryRun) {
      result.destroyed.push(idle);
      continue;
    }
    try {
      await destroyEnv(ctx, { ref: qualifiedEnv(env.project, env.name), project: env.project, force: true, discardWork: idle.why === "expired" });
      result.destroyed.push(idle);
    } catch (e) {
      result.failed.push({ ...idle, error: messageOf(e) });
    }
  }
  return result;
}
