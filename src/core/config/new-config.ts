import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { usageError } from "../errors.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { schemaReference, shippedSchema } from "../schema-ref.ts";
import { CONFIG_FILES, projectName } from "./project-config.ts";

/**
 * `cilo config new`: writes `cilo.jsonc` in `dir` (default: the working folder) with `$schema`
 * naming the config schema of this installed cilo (see `schemaReference`), so editors complete
 * and check it, and the project's name. Refused (exit 2) when the project already has a config file.
 */
export function newProjectConfig(ctx: { cwd: string; env: NodeJS.ProcessEnv }, dir?: string): { path: string; project: string; schema: string } {
  const folder = resolve(ctx.cwd, dir ?? ".");
  const existing = CONFIG_FILES.map((f) => join(folder, f)).find((f) => existsSync(f));
  if (existing) throw usageError(`${existing} already exists; cilo config new does not overwrite a project's config`, "Edit that file instead");
  const path = join(folder, "cilo.jsonc");
  const project = projectName(folder, {});
  const schema = schemaReference(shippedSchema("cilo.config.schema.json"), path);
  const text = [
    "// cilo's project config (docs/config.md); every key is optional.",
    "{",
    `  "$schema": ${JSON.stringify(schema)},`,
    `  "project": ${JSON.stringify(project)},`,
    "}",
    "",
  ].join("\n");
  writeFileAtomic(path, text, 0o644, ctx.env);
  return { path, project, schema };
}
