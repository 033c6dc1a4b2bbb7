import { existsSync } from "node:fs";
import { join } from "node:path";
import { normaliseName, parseEnvRef } from "../names.ts";
import { CONFIG_FILES } from "./config-files.ts";

/** Whether a folder looks like a compose project (a cilo config or a compose file). */
export function isProjectFolder(dir: string): boolean {
  return [...CONFIG_FILES, "compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"].some((f) => existsSync(join(dir, f)));
}

/**
 * The current project when the user names none: `--project`, else the project of the current
 * folder when it looks like one, else none (then a bare env name is looked up across projects).
 */
export async function currentProject(explicit: string | undefined, cwd: string): Promise<string | undefined> {
  if (explicit) return normaliseName(explicit, "project");
  if (!isProjectFolder(cwd)) return undefined;
  const { loadProjectConfig, projectName } = await import("./project-config.ts");
  const { config } = await loadProjectConfig(cwd);
  return projectName(cwd, config);
}

/**
 * The current project for looking up the env `ref` (`findEnv`): `currentProject`, except that a
 * ref naming its project (`<project>:<env>`) needs none, and the project's files are then not read.
 */
export async function currentProjectFor(ref: string, explicit: string | undefined, cwd: string): Promise<string | undefined> {
  if (!explicit && parseEnvRef(ref).project !== undefined) return undefined;
  return currentProject(explicit, cwd);
}
