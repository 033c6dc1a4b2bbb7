import { fileURLToPath } from "node:url";
import { dirname, isAbsolute, relative, sep } from "node:path";

/**
 * A schema that ships with this cilo, as a file: `schema/` at the package root, two levels above
 * this code both in the sources (`src/core/`) and in the bundle (`dist/chunks/`).
 */
export function shippedSchema(name: "cilo.workflow.schema.json" | "cilo.config.schema.json"): string {
  return fileURLToPath(new URL(`../../schema/${name}`, import.meta.url));
}

/**
 * How a file written to `file` refers to the shipped `schema` for editors (`# yaml-language-server:
 * $schema=…`, `"$schema": "…"`): relative when cilo is installed in a `node_modules` of the file's
 * folder or one above it (a project's local install: the path holds for every checkout), else the
 * absolute path of the installed file (a global install, a source checkout), which the YAML and
 * JSON language servers read as a file on this machine.
 */
export function schemaReference(schema: string, file: string): string {
  const rel = relative(dirname(file), schema);
  const parts = rel.split(sep);
  const below = parts.slice(parts.findIndex((p) => p !== ".."));
  if (!isAbsolute(rel) && below[0] === "node_modules") return (rel.startsWith("..") ? parts : [".", ...parts]).join("/");
  return schema;
}
