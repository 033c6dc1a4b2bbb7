// The CLI boundary prints one line per error: Node's "Require stack:" never reaches the user.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CiloError, ExitCode } from "../../src/core/errors.ts";
import { importJsonc } from "../../src/core/vendor.ts";
import { reportError } from "../../src/main.ts";

function capture(e: unknown): { code: number; text: string } {
  const write = process.stderr.write;
  let text = "";
  process.stderr.write = ((chunk: string) => {
    text += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: reportError(e), text };
  } finally {
    process.stderr.write = write;
  }
}

const moduleError = () =>
  Object.assign(new Error("Cannot find module './impl/format'\nRequire stack:\n- /x/dist/chunks/chunk-A.mjs\n- /x/dist/cilo.mjs"), {
    code: "MODULE_NOT_FOUND",
  });

test("a CiloError that wraps a module error: one line, no require stack", () => {
  const r = capture(new CiloError("E_CONFIG_INVALID", `The config file cilo.jsonc cannot be parsed: ${moduleError().message}`, { exitCode: ExitCode.usage }));
  assert.is(r.code, 2);
  assert.is(r.text, "cilo: The config file cilo.jsonc cannot be parsed: Cannot find module './impl/format'\n");
});

test("a foreign module error: its first line and the bug hint, no require stack", () => {
  const r = capture(moduleError());
  assert.is(r.code, 1);
  assert.equal(r.text.trimEnd().split("\n"), [
    "cilo: Cannot find module './impl/format'",
    "hint: This is a bug in cilo; run again with CILO_DEBUG=1 to see the stack trace and report it",
  ]);
});

test("the bundled jsonc-parser loads and parses comments and trailing commas", async () => {
  const { parse } = await importJsonc();
  assert.equal(parse('{ // c\n "a": [1,], }', [], { allowTrailingComma: true }), { a: [1] });
});

test.run();
