import { readFileSync } from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";
import { usageError } from "../core/errors.ts";

/** The tools of `cilo mcp`, in the order `tools/list` gives them. */
export const TOOL_NAMES = [
  "env_create",
  "env_up",
  "env_status",
  "env_list",
  "env_run",
  "env_exec",
  "env_logs",
  "env_diff",
  "env_sync",
  "env_destroy",
  "workflow_run",
] as const;

export type ToolName = (typeof TOOL_NAMES)[number];

export interface ToolSchema {
  name: ToolName;
  description: string;
  inputSchema: { type: "object"; [key: string]: unknown };
  outputSchema: { type: "object"; [key: string]: unknown };
}

type Json = Record<string, unknown>;

/** A file of the package's `schema/` folder (next to `dist/` and `src/`). */
export function schemaUrl(name: string): URL {
  return new URL(`../../schema/${name}`, import.meta.url);
}

function readSchema(name: string): Json {
  return JSON.parse(readFileSync(schemaUrl(name), "utf8")) as Json;
}

/** A schema used inside another: without the keys only a document's root may carry. */
function embedded(schema: Json): Json {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

/**
 * The tools' input and output schemas from `schema/cilo.mcp.schema.json` (the one place they are
 * written), with its `$defs.env` and `$defs.list_item` taken from the env object's schema (`cilo status --json`
 * and `cilo list --json`: an MCP result carries exactly the env object the CLI prints. Each tool's
 * schema carries the `$defs` so that its `$ref`s resolve on its own.
 */
export function loadToolSchemas(): ToolSchema[] {
  const mcp = readSchema("cilo.mcp.schema.json");
  const defs = { ...(mcp["$defs"] as Record<string, Json>) };
  defs["env"] = embedded(readSchema("cilo.env.schema.json"));
  defs["list_item"] = embedded(readSchema("cilo.env.schema.json"));
  const withDefs = (schema: Json) => ({ ...schema, $defs: defs }) as unknown as ToolSchema["inputSchema"];
  return TOOL_NAMES.map((name) => {
    const input = defs[`${name}_input`];
    const output = defs[`${name}_result`];
    if (!input || !output) throw new Error(`schema/cilo.mcp.schema.json has no $defs for the tool ${name}`);
    const { description, ...inputSchema } = input;
    return { name, description: String(description), inputSchema: withDefs(inputSchema), outputSchema: withDefs(output) };
  });
}

/** Checks tool arguments against the tool's input schema; a mismatch is a usage error (exit class 2) with every problem in one line. */
export function inputValidators(tools: ToolSchema[]): (name: ToolName, args: unknown) => void {
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strict: false });
  const compiled = new Map<ToolName, ValidateFunction>(tools.map((t) => [t.name, ajv.compile(t.inputSchema)]));
  return (name, args) => {
    const validate = compiled.get(name)!;
    if (validate(args ?? {})) return;
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || "arguments"} ${e.message ?? "is invalid"}`);
    throw usageError(`Invalid arguments for ${name}: ${[...new Set(problems)].join("; ")}`, "See the tool's inputSchema (tools/list)");
  };
}
