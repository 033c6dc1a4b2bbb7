import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatIssue, loadWorkflow, WorkflowInvalidError, workflowSchemaUrl } from "../../src/workflow/load.ts";
import { validateWorkflowText } from "../../src/workflow/validate.ts";

const root = new URL("../fixtures/workflows/", import.meta.url).pathname;
const yamlFiles = (dir: string) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith(".yaml"))
    .sort();
const validFiles = yamlFiles("valid");
const invalidFiles = yamlFiles("invalid");

interface Expectation {
  file?: string;
  line: number;
  column: number;
  fragment: string;
}

/** The `# expect: [file:]line:col fragment` header of an invalid fixture. */
function expectation(path: string): Expectation {
  const header = readFileSync(path, "utf8").split("\n")[0] ?? "";
  const m = /^# expect: (?:([\w./-]+\.yaml):)?(\d+):(\d+) (.+)$/.exec(header);
  if (!m) throw new Error(`${path} has no "# expect: line:col message" header`);
  return { ...(m[1] ? { file: m[1] } : {}), line: Number(m[2]), column: Number(m[3]), fragment: m[4]! };
}

test("there are at least 12 distinct invalid fixtures and valid ones using every action", () => {
  assert.ok(invalidFiles.length >= 12, `${invalidFiles.length} invalid fixtures`);
  const fragments = invalidFiles.map((f) => expectation(join(root, "invalid", f)).fragment);
  assert.is(new Set(fragments).size, fragments.length, "each fixture expects a different message");
  const text = validFiles.map((f) => readFileSync(join(root, "valid", f), "utf8")).join("\n");
  for (const action of ["clone", "create", "up", "down", "wait", "run", "exec", "destroy", "parallel", "include"]) {
    assert.match(text, new RegExp(`- ${action}:`), `a valid fixture uses ${action}`);
  }
});

for (const name of validFiles) {
  test(`valid/${name} loads, with its includes`, async () => {
    const loaded = await loadWorkflow(join(root, "valid", name));
    assert.is(loaded.workflow.version, 1);
    assert.ok(loaded.workflow.steps.length > 0);
    const text = readFileSync(join(root, "valid", name), "utf8");
    assert.equal(validateWorkflowText(text, name).issues, []);
  });

  test(`valid/${name} passes the bare JSON Schema, as an editor sees it`, () => {
    const ajv = new Ajv({ allowUnionTypes: true });
    ajv.addKeyword({ keyword: "errorMessage", schemaType: "string" });
    const check = ajv.compile(JSON.parse(readFileSync(workflowSchemaUrl(), "utf8")));
    const ok = check(parse(readFileSync(join(root, "valid", name), "utf8")));
    assert.ok(ok, JSON.stringify(check.errors));
  });
}

for (const name of invalidFiles) {
  test(`invalid/${name} fails at the expected position with a one-line message`, async () => {
    const path = join(root, "invalid", name);
    const want = expectation(path);
    try {
      await loadWorkflow(path);
      assert.unreachable("it loaded");
    } catch (e) {
      assert.instance(e, WorkflowInvalidError, String(e));
      const err = e as WorkflowInvalidError;
      assert.is(err.code, "E_WORKFLOW_INVALID");
      assert.is(err.exitCode, 2);
      const first = err.issues[0]!;
      assert.is(resolve(first.file), want.file ? join(root, "invalid", want.file) : path, "file");
      assert.is(`${first.line}:${first.column}`, `${want.line}:${want.column}`, `position of: ${err.message}`);
      assert.is(err.message, formatIssue(first));
      assert.ok(err.message.startsWith(`${first.file}:${first.line}:${first.column}: `), err.message);
      assert.ok(err.message.includes(want.fragment), `"${err.message}" does not contain "${want.fragment}"`);
      assert.not.match(err.message, /\n/);
      for (const issue of err.issues) assert.not.match(issue.message, /\n/);
    }
  });
}

test.run();
