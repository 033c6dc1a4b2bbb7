// The JSON Schemas under schema/, loaded into one ajv so that a `$ref` between them (list → env)
// resolves by `$id`: what tests validate cilo's machine outputs with.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import { repoRoot } from "./cli.ts";

export const schemaAjv = new Ajv({ allowUnionTypes: true, allErrors: true, strict: false });
export const schemaFiles = readdirSync(join(repoRoot, "schema")).filter((f) => f.endsWith(".schema.json"));
const ids = new Map<string, string>();
for (const f of schemaFiles) {
  const schema = JSON.parse(readFileSync(join(repoRoot, "schema", f), "utf8")) as { $id: string };
  ids.set(f, schema.$id);
  schemaAjv.addSchema(schema);
}

/**
 * The validator of `schema/cilo.<name>.schema.json`, e.g. `shippedSchema("env")`; `"<name>#<definition>"`
 * gives one of its definitions (one action's output), e.g. `shippedSchema("dns#status")`.
 */
export function shippedSchema(name: string): ValidateFunction {
  const [base, definition] = name.split("#");
  const file = `cilo.${base}.schema.json`;
  const id = ids.get(file) ?? file;
  const check = schemaAjv.getSchema(definition ? `${id}#/definitions/${definition}` : id);
  if (!check) throw new Error(`no schema ${name}`);
  return check;
}
