import { readFileSync } from "node:fs";
import { Ajv, type Options, type ValidateFunction } from "ajv";

/** Where the workflow JSON Schema is read from: the repository's `schema/` folder. */
export function workflowSchemaUrl(): URL {
  return new URL("../../schema/cilo.workflow.schema.json", import.meta.url);
}

/**
 * The workflow schema compiled with the options `schemaIssues` relies on (all errors, with the
 * schema node that failed). scripts/build.mjs calls this too, with `code: { source: true }`, to
 * generate the standalone validator the bundle carries, so both always compile the same way.
 */
export function compileWorkflowSchema(extra: Options = {}): { ajv: Ajv; validate: ValidateFunction } {
  const schema = JSON.parse(readFileSync(workflowSchemaUrl(), "utf8")) as object;
  const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, ...extra });
  ajv.addKeyword({ keyword: "errorMessage", schemaType: "string" });
  return { ajv, validate: ajv.compile(schema) };
}

let compiled: ValidateFunction | undefined;

/**
 * The workflow schema's validator. From source (tsx, Deno) it is compiled here on first use; in
 * dist/ the build replaces this module by ajv's standalone code generated from the same schema
 * and options (scripts/build.mjs, `workflowValidatorPlugin`), so the CLI neither loads nor runs
 * ajv's compiler.
 */
export function workflowSchemaValidator(): ValidateFunction {
  compiled ??= compileWorkflowSchema().validate;
  return compiled;
}
