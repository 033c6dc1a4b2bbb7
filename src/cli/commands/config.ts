import type { CiloContext } from "../../core/context/context.ts";
import { relative } from "node:path";
import { newProjectConfig } from "../../core/config/new-config.ts";
import { usageError } from "../../core/errors.ts";
import { printJson, println } from "../output.ts";

/** `cilo config new [--dir <folder>]`. */
export default async function config(ctx: CiloContext, action: string, opts: { dir?: string; json?: boolean }): Promise<number> {
  if (action !== "new") throw usageError(`Unknown config action "${action}"; expected new`);
  const made = newProjectConfig(ctx, opts.dir);
  if (opts.json) {
    printJson({ schema_version: 1, path: made.path, project: made.project, schema: made.schema });
    return 0;
  }
  println(`Wrote ${relative(ctx.cwd, made.path) || made.path} (project ${made.project}, schema ${made.schema})`);
  return 0;
}
