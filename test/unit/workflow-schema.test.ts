import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DURATION_PATTERN } from "../../src/workflow/duration.ts";
import { workflowSchemaUrl } from "../../src/workflow/load.ts";
import { ACTIONS } from "../../src/workflow/types.ts";

type Schema = Record<string, unknown>;
const schema = JSON.parse(readFileSync(workflowSchemaUrl(), "utf8")) as Schema;
const definitions = schema["definitions"] as Record<string, Schema>;

/** Every sub-schema with its JSON pointer and whether an enclosing composite has an errorMessage. */
function* subschemas(node: unknown, at = "#", messaged = false): Generator<[Schema, string, boolean]> {
  if (typeof node !== "object" || node === null) return;
  if (Array.isArray(node)) {
    for (const [i, n] of node.entries()) yield* subschemas(n, `${at}/${i}`, messaged);
    return;
  }
  const s = node as Schema;
  yield [s, at, messaged];
  const inherited = messaged || typeof s["errorMessage"] === "string";
  for (const [k, v] of Object.entries(s)) {
    if (k === "anyOf" || k === "oneOf") yield* subschemas(v, `${at}/${k}`, inherited);
    else if (k === "properties" || k === "definitions") {
      for (const [name, child] of Object.entries(v as Schema)) yield* subschemas(child, `${at}/${k}/${name}`, false);
    } else if (k === "items" || k === "additionalProperties" || k === "propertyNames") yield* subschemas(v, `${at}/${k}`, false);
  }
}

test("the schema compiles with ajv's default strict checks and no warnings", () => {
  const warnings: unknown[] = [];
  const logger = { log: () => {}, warn: (...a: unknown[]) => warnings.push(a), error: (...a: unknown[]) => warnings.push(a) };
  const ajv = new Ajv({ allowUnionTypes: true, logger });
  ajv.addKeyword({ keyword: "errorMessage", schemaType: "string" });
  ajv.compile(schema);
  assert.equal(warnings, []);
});

test("every property has a description for editors", () => {
  const missing: string[] = [];
  for (const [s, at] of subschemas(schema)) {
    for (const [name, child] of Object.entries((s["properties"] ?? {}) as Record<string, Schema>)) {
      if (typeof child["description"] !== "string" || child["description"].length < 10) missing.push(`${at}/properties/${name}`);
    }
  }
  assert.equal(missing, []);
});

test("every anyOf/oneOf and pattern has an errorMessage, except the step's one-action rule", () => {
  const missing: string[] = [];
  for (const [s, at, messaged] of subschemas(schema)) {
    if (at === "#/definitions/step") continue;
    const needs = s["anyOf"] !== undefined || s["oneOf"] !== undefined || s["pattern"] !== undefined;
    if (needs && !messaged && typeof s["errorMessage"] !== "string") missing.push(at);
  }
  assert.equal(missing, []);
});

test("the step's one-action rule lists exactly the ACTIONS", () => {
  const step = definitions["step"]!;
  const required = (step["oneOf"] as { required: string[] }[]).map((b) => b.required);
  assert.equal(
    required,
    ACTIONS.map((a) => [a]),
  );
  for (const a of ACTIONS) assert.ok(Object.hasOwn(step["properties"] as Schema, a), a);
});

test("the duration pattern is the one parseDuration uses", () => {
  const branches = definitions["duration"]!["anyOf"] as Schema[];
  assert.is(branches.find((b) => b["pattern"])!["pattern"], DURATION_PATTERN);
});

test.run();
