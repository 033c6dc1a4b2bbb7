import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

/** A regular file this process may execute. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The one PATH lookup: a name containing `/` is taken as a path, else the first executable
 * `<dir>/<cmd>` over `env.PATH` then `extraDirs`; undefined when none is executable.
 */
export function which(cmd: string, env: NodeJS.ProcessEnv, extraDirs: readonly string[] = []): string | undefined {
  if (cmd.includes("/")) return isExecutable(cmd) ? cmd : undefined;
  for (const dir of [...(env["PATH"] ?? "").split(delimiter), ...extraDirs]) {
    if (!dir) continue;
    const p = join(dir, cmd);
    if (isExecutable(p)) return p;
  }
  return undefined;
}
