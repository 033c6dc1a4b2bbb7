// The bundle validates workflows with ajv's standalone code generated at build time
// (scripts/build.mjs), tsx and Deno with the schema compiled at run time: both must report the
// same errors, or the messages built from them (schema-issues.ts) would differ between dist/ and
// source.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Ajv, ValidateFunction } from "ajv";
import { parse } from "yaml";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { compileWorkflowSchema } from "../../src/workflow/schema-validator.ts";

const root = new URL("../fixtures/workflows/", import.meta.url).pathname;
/** Every workflow fixture that is YAML data (the YAML-syntax ones never reach the schema). */
const fixtures = ["valid", "invalid"]
  .flatMap((dir) => readdirSync(join(root, dir)).flatMap((f) => (f.endsWith(".yaml") ? [join(dir, f)] : [])))
  .flatMap((file): [string, unknown][] => {
    try {
      return [[file, parse(readFileSync(join(root, file), "utf8"))]];
    } catch {
      return [];
    }
  });

/** The standalone module as CommonJS, evaluated here (the build emits it as ESM for esbuild). */
function standalone(): ValidateFunction {
  const { ajv, validate } = compileWorkflowSchema({ code: { source: true } });
  const module = { exports: {} as Record<string, unknown> };
  const require = createRequire(import.meta.url);
  const { default: standaloneCode } = require("ajv/dist/standalone/index.js") as { default: (ajv: Ajv, v: ValidateFunction) => string };
  new Function("require", "module", "exports", standaloneCode(ajv, validate))(require, module, module.exports);
  return module.exports["default"] as ValidateFunction;
}

const generated = standalone();
const runtime = compileWorkflowSchema().validate;
const errorsOf = (v: ValidateFunction, data: unknown) => (v(data) ? [] : JSON.parse(JSON.stringify(v.errors)));

const extra: [string, unknown][] = [
  ["not a mapping", ["a"]],
  ["unknown top-level key and bad version", { version: 2, step: [] }],
  ["a step with two actions and a bad duration", { version: 1, steps: [{ run: "x", up: {}, timeout: "1h2" }] }],
  ["parallel with an unknown wait key", { version: 1, steps: [{ parallel: [{ wait: { service: "x" } }] }] }],
];

test("there are fixtures to compare", () => {
  assert.ok(fixtures.length >= 20, `${fixtures.length} fixtures`);
});

for (const [file, data] of fixtures) {
  test(`${file}: the generated validator reports what the run-time compiled one does`, () => {
    assert.equal(errorsOf(generated, data), errorsOf(runtime, data));
  });
}

for (const [name, data] of extra) {
  test(`${name}: the generated validator reports what the run-time compiled one does`, () => {
    const want = errorsOf(runtime, data);
    assert.ok(want.length > 0);
    assert.equal(errorsOf(generated, data), want);
  });
}

test.run();
