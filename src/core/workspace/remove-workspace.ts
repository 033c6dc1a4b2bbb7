import { rm } from "node:fs/promises";
import { resolve } from "node:path";
import { CiloError, ExitCode } from "../errors.ts";
import { removeWorktree } from "./git-worktree.ts";
import { isInside } from "./is-inside.ts";
import { hasUncommittedChanges } from "./uncommitted-changes.ts";

/** A workspace as recorded: where it is, how it was made, and from what. */
export interface WorkspaceRef {
  path: string;
  kind: string;
  source?: string;
  branch?: string;
}

/**
 * Deletes a workspace folder. For a worktree it also runs `git worktree remove --force`, prunes the
 * source repository's worktree list and deletes the `cilo/...` branch it was made on, and nothing
 * else of the source repository. Without `force`, a git-backed workspace with uncommitted changes
 * is refused (exit 2). A workspace that is already gone is not an error. Never deletes a folder
 * that holds the project folder.
 */
export async function removeWorkspace(processEnv: NodeJS.ProcessEnv, info: WorkspaceRef, opts: { force?: boolean } = {}): Promise<void> {
  if (info.path === "") throw new CiloError("E_WORKSPACE_UNSAFE", "Cannot remove a workspace without a path");
  const path = resolve(info.path);
  if (info.source !== undefined && isInside(path, resolve(info.source))) {
    throw new CiloError("E_WORKSPACE_UNSAFE", `Refusing to remove ${path}: it holds the project folder ${info.source}`);
  }
  if (!opts.force && (await hasUncommittedChanges(processEnv, path))) {
    throw new CiloError("E_WORKSPACE_DIRTY", `The workspace ${path} has uncommitted changes`, {
      exitCode: ExitCode.usage,
      hint: "Commit and push them first, or pass --force to lose them",
    });
  }
  if (info.kind === "worktree") await removeWorktree(processEnv, path, info.source, info.branch);
  else await rm(path, { recursive: true, force: true });
}
