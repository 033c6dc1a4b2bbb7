import type { CiloContext } from "../../core/context/context.ts";
import { relative } from "node:path";
import { newProjectConfig } from "../../core/config/new-config.ts";
import { usageError } from "../../core/errors.ts";
import { println } from "../output.ts";

/** `cilo config new [--dir <folder>]`. */
export default async function config(ctx: CiloContext, action: string, opts: { dir?: string }): Promise<number> {
  if (action !== "new") throw usageError(`Unknown config action "${action}"; expected new`);
  const made = newProjectConfig(ctx, opts.dir);
  println(`Wrote ${relative(ctx.cwd, made.path) || made.path} (project ${made.project}, schema ${made.schema})`);
  return 0;
}
