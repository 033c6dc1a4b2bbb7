import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { usageError } from "../errors.ts";
import type { ProjectConfig } from "../config/project-config.ts";

const DEFAULT_NAMES = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];

/**
 * The compose files of a project folder: the config's `compose_files`, else the first default name
 * found (compose v2's order) plus its `.override` file. Explicit, so v1 and v2 read the same files.
 * A missing file is a usage error (exit 2).
 */
export function composeFilesOf(dir: string, config: ProjectConfig): string[] {
  if (config.compose_files && config.compose_files.length > 0) {
    for (const f of config.compose_files) {
      if (!existsSync(resolve(dir, f))) {
        throw usageError(`The compose file ${resolve(dir, f)} listed in the project config does not exist`, "Fix compose_files in the project config");
      }
    }
    return [...config.compose_files];
  }
  const base = DEFAULT_NAMES.find((n) => existsSync(join(dir, n)));
  if (!base) {
    throw usageError(`No compose file in ${dir} (looked for ${DEFAULT_NAMES.join(", ")})`, "Create one, or list yours under compose_files in .cilo/config.yml");
  }
  const dot = base.lastIndexOf(".");
  const override = `${base.slice(0, dot)}.override${base.slice(dot)}`;
  return existsSync(join(dir, override)) ? [base, override] : [base];
}
