import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ACTION_HANDLERS } from "../../src/workflow/actions/index.ts";
import { ACTIONS } from "../../src/workflow/types.ts";

type Schema = Record<string, unknown>;
const schema = JSON.parse(readFileSync(new URL("../../schema/cilo.workflow.schema.json", import.meta.url), "utf8")) as Schema;

test("every action of the types and of the schema has a handler, and no other", () => {
  const step = (schema["definitions"] as Record<string, Schema>)["step"]!;
  const schemaActions = (step["oneOf"] as { required: string[] }[]).map((b) => b.required[0]);
  assert.equal(Object.keys(ACTION_HANDLERS).sort(), [...ACTIONS].sort());
  assert.equal(Object.keys(ACTION_HANDLERS).sort(), schemaActions.sort());
  for (const [name, handler] of Object.entries(ACTION_HANDLERS)) assert.type(handler.attempt, "function", name);
});

test("only the actions made of steps are composite (workflow defaults skip them)", () => {
  const composite = Object.entries(ACTION_HANDLERS)
    .filter(([, h]) => h.composite === true)
    .map(([name]) => name);
  assert.equal(composite.sort(), ["include", "parallel"]);
});

test.run();
