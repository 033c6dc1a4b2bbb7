import { existsSync, realpathSync } from "node:fs";
import { rm } from "node:fs/promises";
import { CiloError, ExitCode, type ErrorCode } from "../errors.ts";
import { git, gitMessage, gitOrFail } from "./git.ts";

/** Branches cilo makes for worktrees; removal never deletes a branch outside this prefix. */
export const WORKTREE_BRANCH_PREFIX = "cilo/";

/**
 * Adds a worktree of the repository at `source` (which must be the repository's root) at `dest`,
 * on a new branch `cilo/<env>` started at the source's HEAD commit. Only committed work is in it:
 * uncommitted and untracked changes of the source stay behind. On failure `dest` is deleted and
 * nothing of the attempt is left in the source repository. Returns the branch.
 */
export async function addWorktree(processEnv: NodeJS.ProcessEnv, source: string, dest: string, env: string, signal?: AbortSignal): Promise<string> {
  const top = await git(processEnv, ["-C", source, "rev-parse", "--show-toplevel"], signal);
  if (top.code !== 0) {
    if (/not a git repository/i.test(top.stderr)) {
      throw worktreeError("E_NOT_A_GIT_REPO", `The project folder ${source} is not a git repository, which worktree mode needs`);
    }
    throw new CiloError("E_GIT_FAILED", `Cannot read the git repository of ${source}: ${gitMessage(top)}`);
  }
  const root = top.stdout.trim();
  if (realpathSync(root) !== realpathSync(source)) {
    throw worktreeError("E_WORKTREE_SUBFOLDER", `The project folder ${source} is inside the git repository ${root}; worktree mode needs the repository's root`);
  }
  if ((await git(processEnv, ["-C", source, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"], signal)).code !== 0) {
    throw worktreeError(
      "E_WORKTREE_NO_COMMIT",
      `The git repository ${source} has no commit yet; a worktree starts from HEAD`,
      "Commit first, or use --clone copy",
    );
  }
  const branch = `${WORKTREE_BRANCH_PREFIX}${env}`;
  if (await branchExists(processEnv, source, branch, signal)) {
    throw worktreeError(
      "E_WORKTREE_BRANCH_EXISTS",
      `The branch ${branch} already exists in ${source}`,
      `Delete it with git -C ${source} branch -D ${branch}, or pick another env name`,
    );
  }
  try {
    const added = await git(processEnv, ["-C", source, "worktree", "add", "--quiet", "-b", branch, "--", dest, "HEAD"], signal);
    if (added.code !== 0) throw new CiloError("E_GIT_FAILED", `Cannot add a git worktree of ${source} at ${dest}: ${gitMessage(added)}`);
  } catch (e) {
    await rm(dest, { recursive: true, force: true });
    await forgetWorktree(processEnv, source, branch);
    throw e;
  }
  return branch;
}

/**
 * Removes the worktree at `path` (`git worktree remove --force`, or deleting the folder when git no
 * longer knows it), prunes the source's worktree list and deletes `branch` if cilo made it.
 * Touches nothing else of the source repository; without the source, just deletes the folder.
 */
export async function removeWorktree(processEnv: NodeJS.ProcessEnv, path: string, source: string | undefined, branch: string | undefined): Promise<void> {
  if (source === undefined || !existsSync(source)) {
    await rm(path, { recursive: true, force: true });
    return;
  }
  if (existsSync(path)) {
    const removed = await git(processEnv, ["-C", source, "worktree", "remove", "--force", "--", path]);
    if (removed.code !== 0) await rm(path, { recursive: true, force: true });
  }
  await forgetWorktree(processEnv, source, branch);
}

async function forgetWorktree(processEnv: NodeJS.ProcessEnv, source: string, branch: string | undefined): Promise<void> {
  await gitOrFail(processEnv, ["-C", source, "worktree", "prune"], `Cannot prune the git worktrees of ${source}`);
  if (branch === undefined || !branch.startsWith(WORKTREE_BRANCH_PREFIX) || !(await branchExists(processEnv, source, branch))) return;
  await gitOrFail(processEnv, ["-C", source, "branch", "--quiet", "-D", "--", branch], `Cannot delete the branch ${branch} of ${source}`);
}

async function branchExists(processEnv: NodeJS.ProcessEnv, repo: string, branch: string, signal?: AbortSignal): Promise<boolean> {
  return (await git(processEnv, ["-C", repo, "rev-parse", "--verify", "--quiet", `refs/heads/${branch}`], signal)).code === 0;
}

function worktreeError(code: ErrorCode, message: string, hint = "Use --clone copy instead"): CiloError {
  return new CiloError(code, message, { exitCode: ExitCode.usage, hint });
}
