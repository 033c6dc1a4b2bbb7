// The one table of error codes (issue 13): every code documented, docs name only real codes, exit codes from the table.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ERROR_CODES, isErrorCode } from "../../src/core/error-codes.ts";
import { CiloError, ExitCode, prerequisiteError, usageError } from "../../src/core/errors.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => ext.test(f))
    .map((f) => join(ROOT, dir, f));
}

/** Every E_* code named in `paths`, with one file that names it. */
function codesIn(paths: string[], pattern: RegExp): Map<string, string> {
  const seen = new Map<string, string>();
  for (const p of paths) for (const m of readFileSync(p, "utf8").matchAll(pattern)) seen.set(m[1]!, p.slice(ROOT.length));
  return seen;
}

test("every code has an exit class and a one-line doc", () => {
  for (const [code, { exit, doc }] of Object.entries(ERROR_CODES)) {
    assert.ok(exit in ExitCode, `${code}: exit class ${exit}`);
    assert.ok(doc.length > 0 && !doc.includes("\n"), `${code}: one-line doc`);
  }
});

test("docs/ and README name no error code missing from the table", () => {
  const named = codesIn([...files("docs", /\.md$/), join(ROOT, "README.md")], /\b(E_[A-Z][A-Z0-9_]*[A-Z0-9])\b/g);
  assert.ok(named.size > 5, "the docs name codes");
  assert.equal(
    [...named].filter(([c]) => !isErrorCode(c)).map(([c, f]) => `${c} (${f})`),
    [],
  );
});

test("every quoted code in src/ is in the table", () => {
  const used = codesIn(files("src", /\.ts$/), /"(E_[A-Z][A-Z0-9_]*)"/g);
  assert.ok(used.size > 50);
  assert.equal(
    [...used].filter(([c]) => !isErrorCode(c)).map(([c, f]) => `${c} (${f})`),
    [],
  );
  // fs-fault.ts makes E_FS_<errno> from the faults it knows.
  const faults = [...readFileSync(join(ROOT, "src/core/fs/fs-fault.ts"), "utf8").matchAll(/^\s+(E[A-Z]+): \{/gm)].map((m) => `E_FS_${m[1]}`);
  assert.ok(faults.length >= 5);
  assert.equal(
    faults.filter((c) => !isErrorCode(c)),
    [],
  );
});

test("a CiloError's exit code defaults from its code's class; an explicit one wins", () => {
  assert.is(new CiloError("E_GIT_FAILED", "x").exitCode, ExitCode.failure);
  assert.is(new CiloError("E_CONFIG_INVALID", "x").exitCode, ExitCode.usage);
  assert.is(new CiloError("E_NOT_INITIALISED", "x").exitCode, ExitCode.prerequisite);
  assert.is(new CiloError("E_INTERRUPTED", "x").exitCode, ExitCode.interrupted);
  assert.is(new CiloError("E_STATE_VERSION", "x", { exitCode: ExitCode.prerequisite }).exitCode, ExitCode.prerequisite);
  assert.is(usageError("x").exitCode, ExitCode.usage);
  assert.is(prerequisiteError("E_DOCKER_CONTEXT", "x").exitCode, ExitCode.prerequisite);
});

test("one lock code: E_LOCKED", () => {
  assert.ok(isErrorCode("E_LOCKED"));
  assert.ok(!isErrorCode("E_LOCK") && !isErrorCode("E_STATE_LOCKED"));
});

test.run();
