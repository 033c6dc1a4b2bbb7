import { join } from "node:path";
import type { ComposeTarget } from "../compose/compose-cli.ts";
import type { EnvRecord } from "../state/schema.ts";

// Where an env's rendered compose file is and how the compose CLI is called on it: a module of
// its own, light, so that `cilo up` can start compose before env-compose.ts and the transform load.

/** The rendered compose file of an env: `<workspace>/.cilo/compose.yml`. */
export function renderedComposePath(rec: EnvRecord): string {
  return join(rec.workspace, ".cilo", "compose.yml");
}

/** How to call the compose CLI on an env's rendered file. */
export function envComposeTarget(rec: EnvRecord): ComposeTarget {
  return { projectName: rec.docker_name, files: [renderedComposePath(rec)], cwd: rec.workspace };
}

/**
 * The same call with the rendered file's text on stdin (`-f -`), relative paths starting in
 * `.cilo/` as they do for the file: compose can start (and load itself) before the file is written.
 */
export function envComposeStdinTarget(rec: EnvRecord): ComposeTarget {
  return { projectName: rec.docker_name, files: ["-"], cwd: rec.workspace, projectDirectory: join(rec.workspace, ".cilo") };
}
