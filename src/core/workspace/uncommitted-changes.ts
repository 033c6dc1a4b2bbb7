import { existsSync } from "node:fs";
import { join } from "node:path";
import { CiloError } from "../errors.ts";
import { git, gitMessage } from "./git.ts";

/** Where cilo writes its own artefacts in a workspace; untracked files there are not the user's work. */
const GENERATED_DIR = ".cilo/";

/**
 * Whether a git-backed workspace (worktree or clone) holds work that is not committed: changed or
 * staged tracked files, or untracked files that are not ignored (except cilo's untracked artefacts
 * under `.cilo/`). Commits not pushed anywhere do not count. Always false for a plain copy.
 */
export async function hasUncommittedChanges(processEnv: NodeJS.ProcessEnv, path: string): Promise<boolean> {
  if (!existsSync(join(path, ".git"))) return false;
  const status = await git(processEnv, ["-C", path, "status", "--porcelain=v1", "-z", "--untracked-files=all"]);
  if (status.code !== 0) throw new CiloError("E_GIT_FAILED", `Cannot read the git status of ${path}: ${gitMessage(status)}`);
  return status.stdout.split("\0").some((entry) => entry.length > 3 && !(entry.startsWith("?? ") && entry.slice(3).startsWith(GENERATED_DIR)));
}
