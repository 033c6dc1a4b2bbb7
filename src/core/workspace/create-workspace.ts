import { lstatSync, readdirSync, statSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { dirname, relative, resolve, sep } from "node:path";
import { CiloError, ExitCode, usageError } from "../errors.ts";
import { git } from "./git.ts";
import { cloneFilter } from "./clone-filter.ts";
import { copyTree, type CopyProgress } from "./copy-tree.ts";
import { cloneRepo, excludeGenerated } from "./git-clone.ts";
import { addWorktree } from "./git-worktree.ts";
import { isInside } from "./is-inside.ts";

/**
 * How a workspace is made from a local project folder:
 * - `copy` (default): the files, honouring `.ciloignore`; never the `.git` folder.
 * - `reflink`: like `copy`, but each file is a copy-on-write clone (btrfs, XFS, APFS...); on file
 *   systems that cannot, a plain copy with a notice.
 * - `worktree`: a git worktree of the project's repository on a new branch `cilo/<env>` at HEAD.
 *   Only committed work is in it: uncommitted and untracked changes of the folder are not.
 */
export type CloneMode = "copy" | "reflink" | "worktree";

const MODES: readonly CloneMode[] = ["copy", "reflink", "worktree"];

export interface CreateWorkspaceOptions {
  /** Where the workspace goes; must not exist yet, or be an empty folder. */
  dest: string;
  /** The local project folder. */
  source?: string;
  /** Clone this repository instead (`ref`: a branch, a tag or a commit id). */
  git?: { url: string; ref?: string };
  /** Default `copy`; ignored with `git`. */
  mode?: CloneMode;
  /** Patterns (gitignore syntax) copied even when `.ciloignore` or `exclude` excludes them (copy, reflink). */
  include?: string[];
  /** Patterns (gitignore syntax) left out as if listed in `.ciloignore` (copy, reflink). */
  exclude?: string[];
  /** Also leave out what git ignores in the project folder (copy, reflink; `clone.respect_gitignore`). */
  respectGitignore?: boolean;
  /** The env's name, which names the worktree branch `cilo/<env>`. */
  env: string;
  /** The environment git runs with (worktree, clone). */
  processEnv: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** How far the copy has got (copy, reflink), after each file; throttle any display yourself. */
  onCopyProgress?: (progress: CopyProgress) => void;
}

export interface WorkspaceInfo {
  /** What was made; a `reflink` request that had to fall back to copying says `copy`. */
  kind: "copy" | "reflink" | "worktree" | "git";
  path: string;
  source?: string;
  url?: string;
  ref?: string;
  /** The worktree branch created, e.g. `cilo/feat-login`. */
  branch?: string;
  /** Files and symlinks copied (copy, reflink). */
  files?: number;
  /** Something the user should know, e.g. that reflink fell back to a copy. */
  notice?: string;
}

export const REFLINK_FALLBACK_NOTICE = "reflink is not supported on this file system; copied instead";

/**
 * Makes an env's workspace at `dest` from a project folder (copy, reflink or worktree) or a git
 * repository. The source folder is only read (SPEC §2, invariant 1). When anything fails or the
 * signal aborts, `dest` is left as it was found: absent, or an empty folder.
 */
export async function createWorkspace(opts: CreateWorkspaceOptions): Promise<WorkspaceInfo> {
  opts.signal?.throwIfAborted();
  const dest = resolve(opts.dest);
  const repo = opts.git;
  if (repo) {
    if (opts.source !== undefined) throw usageError("A workspace comes from a project folder or a git URL, not both");
    return withDest(dest, async () => {
      await cloneRepo(opts.processEnv, repo.url, dest, repo.ref, opts.signal);
      excludeGenerated(dest);
      return { kind: "git", path: dest, url: repo.url, ...(repo.ref ? { ref: repo.ref } : {}) };
    });
  }
  const source = checkedSource(opts.source);
  const mode = opts.mode ?? "copy";
  if (!MODES.includes(mode)) throw usageError(`The clone mode "${mode}" is not one of ${MODES.join(", ")}`);
  if (source === dest) throw usageError(`The workspace folder ${dest} cannot be the project folder itself`);
  return withDest(dest, async () => {
    if (mode !== "worktree") return copyWorkspace(source, dest, mode === "reflink", opts);
    const branch = await addWorktree(opts.processEnv, source, dest, opts.env, opts.signal);
    return { kind: "worktree", path: dest, source, branch };
  });
}

/** Runs `make` on a free `dest` (absent, or an empty folder) and puts `dest` back as it was if it fails. */
async function withDest(dest: string, make: () => Promise<WorkspaceInfo>): Promise<WorkspaceInfo> {
  const existed = claimDest(dest);
  await mkdir(dirname(dest), { recursive: true });
  try {
    return await make();
  } catch (e) {
    await rm(dest, { recursive: true, force: true });
    if (existed) await mkdir(dest, { recursive: true });
    throw e;
  }
}

async function copyWorkspace(source: string, dest: string, reflink: boolean, opts: CreateWorkspaceOptions): Promise<WorkspaceInfo> {
  await mkdir(dest, { recursive: true });
  const exclude = [...(opts.exclude ?? []), ...(opts.respectGitignore ? await gitIgnoredPatterns(opts.processEnv, source, opts.signal) : [])];
  const filter = cloneFilter({
    ...(await readIgnoreFile(source)),
    ...(exclude.length > 0 ? { exclude } : {}),
    ...(opts.include ? { include: opts.include } : {}),
  });
  const { files, reflinked } = await copyTree(source, dest, {
    filter,
    reflink,
    ...(isInside(source, dest) ? { skip: [relative(source, dest).split(sep).join("/")] } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onCopyProgress ? { onProgress: opts.onCopyProgress } : {}),
  });
  const kind = reflink && reflinked ? "reflink" : "copy";
  return { kind, path: dest, source, files, ...(reflink && !reflinked ? { notice: REFLINK_FALLBACK_NOTICE } : {}) };
}

/**
 * What git ignores in `source`, as anchored patterns: in a git repository, git's own answer
 * (every `.gitignore`, `.git/info/exclude`, the user's global excludes); elsewhere the folder's
 * top-level `.gitignore`.
 */
export async function gitIgnoredPatterns(processEnv: NodeJS.ProcessEnv, source: string, signal?: AbortSignal): Promise<string[]> {
  const r = await git(processEnv, ["-C", source, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"], signal).catch((e) => {
    if (e instanceof CiloError && e.code === "E_GIT_MISSING") return undefined; // no git: read .gitignore below
    throw e;
  });
  if (r?.code === 0)
    return r.stdout
      .split("\0")
      .filter(Boolean)
      .map((path) => `/${escapePattern(path)}`);
  try {
    return (await readFile(resolve(source, ".gitignore"), "utf8")).split("\n");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
}

/** A path as a gitignore pattern that matches only itself. */
function escapePattern(path: string): string {
  return path
    .replace(/[\\*?[\]!#]/g, (c) => `\\${c}`)
    .replace(/^ /, "\\ ")
    .replace(/ $/, "\\ ");
}

async function readIgnoreFile(source: string): Promise<{ ignoreFile?: string }> {
  try {
    return { ignoreFile: await readFile(resolve(source, ".ciloignore"), "utf8") };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw e;
  }
}

function checkedSource(folder: string | undefined): string {
  if (folder === undefined) throw usageError("A workspace needs a project folder or a git URL");
  const source = resolve(folder);
  let isDir = false;
  try {
    isDir = statSync(source).isDirectory();
  } catch {
    throw usageError(`The project folder ${source} does not exist`, "Pass an existing folder with --from");
  }
  if (!isDir) throw usageError(`The project folder ${source} is not a folder`, "Pass a folder with --from");
  return source;
}

/** Checks that `dest` is free; returns whether it exists already (as an empty folder). */
function claimDest(dest: string): boolean {
  let isDir: boolean;
  try {
    isDir = lstatSync(dest).isDirectory();
  } catch {
    return false;
  }
  const taken = (what: string) =>
    new CiloError("E_WORKSPACE_EXISTS", `The workspace folder ${dest} already exists ${what}`, {
      exitCode: ExitCode.usage,
      hint: "Remove it, or pick another env name",
    });
  if (!isDir) throw taken("and is not a folder");
  if (readdirSync(dest).length > 0) throw taken("and is not empty");
  return true;
}
