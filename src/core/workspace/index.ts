export { createWorkspace, type CloneMode, type CreateWorkspaceOptions, type WorkspaceInfo } from "./create-workspace.ts";
export type { CopyProgress } from "./copy-tree.ts";
export { removeWorkspace, type WorkspaceRef } from "./remove-workspace.ts";
export { hasUncommittedChanges } from "./uncommitted-changes.ts";
export { renderEnvFiles, type RenderTokens } from "./render-env-files.ts";
