import type { CiloContext } from "../context/context.ts";
import { existsSync, lstatSync, mkdirSync, realpathSync, rmSync, unlinkSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { CiloError, ExitCode, messageOf } from "../errors.ts";
import { envsDir, workspacePath } from "../paths.ts";
import { envKey, type EnvRecord } from "../state/schema.ts";
import { readState } from "../state/store.ts";
import { removeWorkspace, type WorkspaceRef } from "../workspace/index.ts";
import { bundleUnpushed, unsavedWork, type UnsavedWork } from "../workspace/unsaved-work.ts";
import { baseUrl } from "./urls.ts";

/** A line destroy tells the user besides its result: what it left, or how to get lost work back. */
export type DestroyNotice = (line: string, level: "info" | "warning") => void;

/** What a destroy does with an env's workspace, decided before anything is torn down. */
export interface WorkspacePlan {
  /** The env's own folder `$CILO_HOME/envs/<project>/<env>`; undefined when it leads out of `envs/`. */
  path?: string;
  /** `path` is a symlink: only the link is removed. */
  link?: boolean;
  /** Paths destroy leaves and reports: a recorded workspace that is not the env's own folder, or that folder when it leads out of the home. */
  left: string[];
  /** What removing `path` loses (git-backed workspaces). */
  work?: UnsavedWork;
  /** Where a clone's unpushed commits were saved. */
  bundle?: string;
}

/**
 * The folder destroy may delete for `rec`: only `$CILO_HOME/envs/<project>/<env>`, whatever
 * `workspace` the state records, and only when it does not lead out of `envs/` through a symlinked
 * folder. A recorded path that differs is in `left`.
 */
export function ownWorkspace(rec: EnvRecord, home: string): Pick<WorkspacePlan, "path" | "link" | "left"> {
  const root = envsDir(home);
  const expected = workspacePath(rec.project, rec.name, home);
  const recorded = typeof rec.workspace === "string" && rec.workspace !== "" ? resolve(rec.workspace) : undefined;
  const left = recorded !== undefined && recorded !== expected ? [recorded] : [];
  const parts = relative(root, expected).split(sep);
  if (parts.length !== 2 || parts.some((p) => p === "" || p === "." || p === "..")) return { left: [...left, expected] };
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(expected);
  } catch {
    return { path: expected, left };
  }
  if (st.isSymbolicLink()) return { path: expected, link: true, left };
  let inside = false;
  try {
    inside = realpathSync(expected) === join(realpathSync(root), rec.project, rec.name);
  } catch {
    inside = false;
  }
  return inside ? { path: expected, left } : { left: [...left, expected] };
}

/**
 * Plans the removal of an env's workspace and, unless `discard`, refuses (exit 2, nothing touched)
 * when it would lose work: a worktree's uncommitted files or commits of its `cilo/<env>` branch
 * that no other ref reaches, a clone's uncommitted files or unpushed commits. With `discard`, a
 * clone's unpushed commits are first saved as a bundle under `$CILO_HOME/saved/<project>/`.
 */
export async function planWorkspaceRemoval(ctx: CiloContext, rec: EnvRecord, opts: { ref: string; discard?: boolean }): Promise<WorkspacePlan> {
  const home = ctx.home;
  const plan: WorkspacePlan = ownWorkspace(rec, home);
  const work = await workAt(ctx, rec, plan);
  if (!work) return plan;
  plan.work = work;
  if (!opts.discard) throw unsavedError(rec, work, opts.ref);
  if (work.kind !== "worktree" && work.commits > 0 && plan.path !== undefined) {
    const dir = join(home, "saved", rec.project);
    mkdirSync(dir, { recursive: true });
    plan.bundle = join(dir, `${rec.name}-${new Date().toISOString().replace(/[:.]/g, "-")}.bundle`);
    await bundleUnpushed(ctx.env, plan.path, plan.bundle);
  }
  return plan;
}

/**
 * Deletes what `plan` allows (a worktree with its registration and `cilo/<env>` branch, a clone,
 * a copy; a symlink only as a link), tells where lost work can be recovered from, and reports a
 * foreign path it leaves. Also when the folder is gone: a worktree's branch still needs removing.
 */
export async function removePlannedWorkspace(ctx: CiloContext, rec: EnvRecord, plan: WorkspacePlan, notice: DestroyNotice = () => {}): Promise<void> {
  for (const path of plan.left) {
    notice(
      `Left ${path}: it is not the workspace folder of ${envKey(rec.project, rec.name)} inside ${envsDir(ctx.home)}, so destroy does not delete it`,
      "warning",
    );
  }
  const path = plan.path;
  if (path === undefined) return;
  if (plan.link) {
    unlinkSync(path);
    return;
  }
  try {
    await removeWorkspace(ctx.env, workspaceRef(rec, path), { force: true });
  } catch (e) {
    throw new CiloError("E_WORKSPACE_REMOVE", `Cannot remove the workspace ${path}: ${messageOf(e)}`);
  }
  if (existsSync(path)) rmSync(path, { recursive: true, force: true });
  const work = plan.work;
  if (work?.branch && work.tip) notice(`${work.branch} was at ${work.tip}`, "info");
  else if (work?.tip && (work.kind === "worktree" || plan.bundle)) notice(`HEAD of ${envKey(rec.project, rec.name)} was at ${work.tip}`, "info");
  if (plan.bundle && work) notice(`${countOf(work.commits, "unpushed commit")} saved in ${plan.bundle} (git fetch ${plan.bundle})`, "info");
}

/** What deleting the env's own workspace folder would lose; undefined when nothing. */
export async function unsavedWorkOf(ctx: CiloContext, rec: EnvRecord): Promise<UnsavedWork | undefined> {
  return workAt(ctx, rec, ownWorkspace(rec, ctx.home));
}

/** Says what is lost in a few words, e.g. "2 commits not on any other branch and 1 uncommitted file". */
export function describeWork(work: UnsavedWork): string {
  const what: string[] = [];
  if (work.commits > 0)
    what.push(`${countOf(work.commits, "commit")} ${work.kind === "worktree" ? "not on any other branch" : "not pushed to any remote branch"}`);
  if (work.files > 0) what.push(countOf(work.files, "uncommitted file"));
  return what.join(" and ");
}

async function workAt(ctx: CiloContext, rec: EnvRecord, plan: Pick<WorkspacePlan, "path" | "link">): Promise<UnsavedWork | undefined> {
  if (plan.path === undefined || plan.link) return undefined;
  const work = await unsavedWork(ctx.env, workspaceRef(rec, plan.path), { tokens: renderTokens(ctx, rec, plan.path) });
  return work && (work.commits > 0 || work.files > 0) ? work : undefined;
}

/** One line naming what would be lost and how to keep it. */
function unsavedError(rec: EnvRecord, work: UnsavedWork, ref: string): CiloError {
  const key = envKey(rec.project, rec.name);
  const subject =
    work.kind === "worktree"
      ? (work.branch ?? `The worktree of ${key}`)
      : work.kind === "git"
        ? `The git clone of ${key}`
        : `The git repository in the workspace of ${key}`;
  const keep = work.kind === "worktree" ? "commit/push or merge them" : "commit and push them";
  return new CiloError("E_WORKSPACE_UNSAVED", `${subject} has ${describeWork(work)}; ${keep}, or run cilo destroy ${ref} --force (or --keep-workspace)`, {
    exitCode: ExitCode.usage,
  });
}

function workspaceRef(rec: EnvRecord, path: string): WorkspaceRef {
  return {
    path,
    kind: rec.source?.kind ?? "copy",
    ...(rec.source?.path ? { source: rec.source.path } : {}),
    ...(rec.source?.branch ? { branch: rec.source.branch } : {}),
  };
}

/** The `env.render` token values the workspace was rendered with at create. */
function renderTokens(ctx: CiloContext, rec: EnvRecord, path: string) {
  let suffix = rec.dns_suffix;
  if (suffix === undefined) {
    try {
      suffix = readState(ctx).config.dns_suffix;
    } catch {
      suffix = "test";
    }
  }
  return {
    CILO_ENV: rec.name,
    CILO_PROJECT: rec.project,
    CILO_BASE_URL: baseUrl(rec.project, rec.name, suffix),
    CILO_DNS_SUFFIX: suffix,
    CILO_WORKSPACE: path,
  };
}

function countOf(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
