import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CiloError } from "../errors.ts";
import { git, gitEnv, gitMessage, gitOrFail } from "./git.ts";
import type { WorkspaceRef } from "./remove-workspace.ts";
import { replaceTokens, type RenderTokens } from "./render-env-files.ts";
import { WORKTREE_BRANCH_PREFIX } from "./git-worktree.ts";

/** Where cilo writes its own artefacts in a workspace; untracked files there are not the user's work. */
const GENERATED_DIR = ".cilo/";

/** What deleting a git-backed workspace would lose. */
export interface UnsavedWork {
  /** `repo`: a git repository the user made inside a copied workspace (a copy never has `.git`). */
  kind: "worktree" | "git" | "repo";
  /** Worktree: the `cilo/<env>` branch removal deletes (when it exists). */
  branch?: string;
  /** The commit that would be lost as a name: the branch tip (worktree) or HEAD (clone). */
  tip?: string;
  /**
   * Commits that would be lost: worktree, those of the branch and of HEAD that no other branch,
   * tag or remote-tracking ref reaches; clone, those of HEAD and the local branches that no
   * remote-tracking ref or tag reaches (not pushed).
   */
  commits: number;
  /** Changed, staged or untracked files that are not ignored and not cilo's own (see `uncommittedFiles`). */
  files: number;
}

/**
 * What removing a worktree, a `--git` clone or a copy holding a git repository would lose.
 * Undefined when there is no repository to look at (a copy without `.git`, a clone whose folder
 * is gone). `tokens`: the values the
 * env's `env.render` files were rendered with, so that a file that differs from HEAD only by that
 * rendering does not count as a change.
 */
export async function unsavedWork(processEnv: NodeJS.ProcessEnv, ws: WorkspaceRef, opts: { tokens?: RenderTokens } = {}): Promise<UnsavedWork | undefined> {
  const hasRepo = existsSync(join(ws.path, ".git"));
  if (ws.kind === "worktree") {
    const repo = ws.source !== undefined && existsSync(ws.source) ? ws.source : hasRepo ? ws.path : undefined;
    if (repo === undefined) return undefined;
    const branch = ws.branch?.startsWith(WORKTREE_BRANCH_PREFIX) && (await resolveCommit(processEnv, repo, `refs/heads/${ws.branch}`)) ? ws.branch : undefined;
    const head = hasRepo ? await resolveCommit(processEnv, ws.path, "HEAD") : undefined;
    const tip = branch ? await resolveCommit(processEnv, repo, `refs/heads/${branch}`) : head;
    const tips = [...new Set([tip, head].filter((x): x is string => x !== undefined))];
    const others = branch ? [`--exclude=${branch}`, "--branches", "--tags", "--remotes"] : ["--branches", "--tags", "--remotes"];
    return {
      kind: "worktree",
      ...(branch ? { branch } : {}),
      ...(tip ? { tip } : {}),
      commits: tips.length ? await countCommits(processEnv, repo, tips, others) : 0,
      files: hasRepo ? await uncommittedFiles(processEnv, ws.path, opts.tokens) : 0,
    };
  }
  if (!hasRepo) return undefined;
  const head = await resolveCommit(processEnv, ws.path, "HEAD");
  return {
    kind: ws.kind === "git" ? "git" : "repo",
    ...(head ? { tip: head } : {}),
    commits: head ? await countCommits(processEnv, ws.path, ["HEAD", "--branches"], ["--remotes", "--tags"]) : 0,
    files: await uncommittedFiles(processEnv, ws.path, opts.tokens),
  };
}

/**
 * Files of a git workspace that hold uncommitted work: changed or staged tracked files, and
 * untracked files that are not ignored. Not counted: cilo's untracked artefacts under `.cilo/`
 * (a clone also lists them in its `.git/info/exclude`; a worktree shares the user's), and tracked
 * files whose content is exactly their HEAD version with `tokens` rendered into it (`env.render`).
 */
export async function uncommittedFiles(processEnv: NodeJS.ProcessEnv, path: string, tokens?: RenderTokens): Promise<number> {
  const status = await git(processEnv, ["-C", path, "status", "--porcelain=v1", "-z", "--untracked-files=all"]);
  if (status.code !== 0) throw new CiloError("E_GIT_FAILED", `Cannot read the git status of ${path}: ${gitMessage(status)}`);
  const entries = status.stdout.split("\0");
  let count = 0;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry.length < 4) continue;
    const xy = entry.slice(0, 2);
    const file = entry.slice(3);
    if (xy[0] === "R" || xy[0] === "C") i++; // the next entry is the rename's source
    if (xy === "??" && file.startsWith(GENERATED_DIR)) continue;
    if (tokens && xy !== "??" && (await isRenderedOnly(processEnv, path, file, tokens))) continue;
    count++;
  }
  return count;
}

/**
 * Saves the commits of a clone that no remote-tracking ref or tag reaches (HEAD and its local
 * branches) into a git bundle at `file`; `git fetch <file>` or `git clone <file>` gets them back.
 */
export async function bundleUnpushed(processEnv: NodeJS.ProcessEnv, path: string, file: string): Promise<void> {
  await gitOrFail(
    processEnv,
    ["-C", path, "bundle", "create", "--quiet", file, "HEAD", "--branches", "--not", "--remotes", "--tags"],
    `Cannot save the unpushed commits of ${path}`,
  );
}

async function isRenderedOnly(processEnv: NodeJS.ProcessEnv, path: string, file: string, tokens: RenderTokens): Promise<boolean> {
  const full = join(path, file);
  if (!existsSync(full)) return false;
  const head = await gitBytes(processEnv, path, ["cat-file", "blob", `HEAD:${file}`]);
  if (head === undefined) return false;
  return replaceTokens(head, tokens).equals(readFileSync(full));
}

async function resolveCommit(processEnv: NodeJS.ProcessEnv, repo: string, rev: string): Promise<string | undefined> {
  const r = await git(processEnv, ["-C", repo, "rev-parse", "--verify", "--quiet", `${rev}^{commit}`]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

async function countCommits(processEnv: NodeJS.ProcessEnv, repo: string, tips: string[], others: string[]): Promise<number> {
  const out = await gitOrFail(processEnv, ["-C", repo, "rev-list", "--count", ...tips, "--not", ...others], `Cannot count the commits of ${repo}`);
  return Number(out) || 0;
}

/** A git command's stdout as bytes (file contents need not be UTF-8); undefined when it fails. */
function gitBytes(processEnv: NodeJS.ProcessEnv, repo: string, args: string[]): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    execFile("git", ["-C", repo, ...args], { env: gitEnv(processEnv), encoding: "buffer", maxBuffer: 64 * 1024 * 1024 }, (err, stdout) =>
      resolve(err ? undefined : stdout),
    );
  });
}
