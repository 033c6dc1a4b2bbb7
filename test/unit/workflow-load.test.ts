import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CiloError } from "../../src/core/errors.ts";
import { includedWorkflow, loadWorkflow, validateWorkflowText, WorkflowInvalidError } from "../../src/workflow/load.ts";
import type { IncludeStep, ParallelStep, RunStep } from "../../src/workflow/types.ts";
import { actionOf } from "../../src/workflow/types.ts";

const fixtures = new URL("../fixtures/workflows/", import.meta.url).pathname;
let dir = "";

test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), "cilo-workflow-"));
});
test.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

async function loadError(path: string, vars?: Record<string, string>): Promise<CiloError> {
  let caught: unknown;
  try {
    await loadWorkflow(path, vars ? { vars } : {});
  } catch (e) {
    caught = e;
  }
  assert.instance(caught, CiloError, `${path} did not fail with a CiloError: ${String(caught)}`);
  return caught as CiloError;
}

test("a loaded workflow knows its file, folder, name and included workflows", async () => {
  const loaded = await loadWorkflow(join(fixtures, "valid/include.yaml"));
  assert.is(loaded.file, join(fixtures, "valid/include.yaml"));
  assert.is(loaded.dir, join(fixtures, "valid"));
  assert.is(loaded.name, "include", "no name: the file name");
  const step = loaded.workflow.steps.find((s): s is IncludeStep => actionOf(s) === "include")!;
  const child = includedWorkflow(loaded, step);
  assert.is(child.name, "seed");
  assert.is(child.file, join(fixtures, "valid/parts/seed.yaml"));
  assert.equal(Object.keys(child.workflow.vars ?? {}), ["rows", "table"]);
  assert.equal(step.with, { rows: 100, table: "users" });
});

test("the typed workflow is normalised: empty actions {}, env values strings, needs lists", async () => {
  const inc = await loadWorkflow(join(fixtures, "valid/include.yaml"));
  assert.equal(inc.workflow.steps.map(actionOf), ["clone", "create", "up", "include", "wait", "exec", "down", "destroy"]);
  assert.equal((inc.workflow.steps[6] as { down: unknown }).down, {});
  const host = await loadWorkflow(join(fixtures, "valid/host-only.yaml"));
  assert.equal(host.workflow.env, undefined);
  const parallel = host.workflow.steps[1] as ParallelStep;
  assert.equal(parallel.parallel[0]!.env, { SIDE: "left", WIDTH: "80" });
  assert.equal(parallel.parallel[1]!.needs, ["left"]);
  assert.is((host.workflow.steps[2] as RunStep).shell, "bash");
  const e2e = await loadWorkflow(join(fixtures, "valid/api-e2e.yaml"));
  assert.equal(e2e.workflow.env, { NODE_ENV: "test", RETRIES: "3" });
  assert.is(e2e.name, "api-e2e");
});

test("--var overrides are kept for declared vars and refused for unknown ones", async () => {
  const path = join(fixtures, "valid/api-e2e.yaml");
  const loaded = await loadWorkflow(path, { vars: { env: "pr-9" } });
  assert.equal(loaded.varOverrides, { env: "pr-9" });
  const e = await loadError(path, { enb: "x" });
  assert.is(e.exitCode, 2);
  assert.match(e.message, /has no var "enb" \(did you mean "env"\?\); it declares env/);
  const none = await loadError(write("plain.yaml", "version: 1\nsteps:\n  - run: x\n"), { a: "1" });
  assert.match(none.message, /it declares no vars/);
});

test("a missing workflow file is exit 2 with a hint", async () => {
  const e = await loadError(join(dir, "nope.yaml"));
  assert.is(e.code, "E_WORKFLOW_NOT_FOUND");
  assert.is(e.exitCode, 2);
  assert.match(e.message, /nope\.yaml does not exist/);
  assert.match(e.hint ?? "", /cilo workflow new/);
});

test("every issue is attached, sorted by position; the message is the first, the hint counts the rest", async () => {
  const path = write(
    "many.yaml",
    ["version: 1", "steps:", "  - run: echo ${{ nope }}", "    timeout: soon", "  - deploy: x", "  - up: {}", "    down: {}"].join("\n"),
  );
  const e = (await loadError(path)) as WorkflowInvalidError;
  assert.instance(e, WorkflowInvalidError);
  assert.equal(
    e.issues.map((i) => `${i.line}:${i.column} ${i.path}`),
    ["3:19 steps[0].run", "4:14 steps[0].timeout", "5:5 steps[1].deploy", "7:5 steps[2].down"],
  );
  assert.ok(e.message.endsWith('3:19: steps[0].run: unknown name "nope"; expected one of vars, env, cilo, steps, job'), e.message);
  assert.match(e.hint ?? "", /^3 more problems; `cilo workflow validate .*many\.yaml` lists them all$/);
});

test("problems in an included file name that file", async () => {
  const main = write("main.yaml", "version: 1\nsteps:\n  - include: sub/child.yaml\n");
  write("sub/child.yaml", "version: 1\nsteps:\n  - run: x\n    retry: many\n");
  const e = (await loadError(main)) as WorkflowInvalidError;
  assert.is(e.issues.length, 1);
  assert.match(e.issues[0]!.file, /sub\/child\.yaml$/);
  assert.is(`${e.issues[0]!.line}:${e.issues[0]!.column}`, "4:12");
  assert.match(e.message, /retry: got "many"; expected a number of retries/);
});

test("includes resolve against the including file's folder, and a file included twice is read once", async () => {
  const main = write(
    "main.yaml",
    "version: 1\nsteps:\n  - include: lib/a.yaml\n  - parallel:\n      - include: lib/b.yaml\n      - include: ./lib/../lib/b.yaml\n",
  );
  write("lib/a.yaml", "version: 1\nsteps:\n  - include: b.yaml\n");
  write("lib/b.yaml", "version: 1\nname: bee\nsteps:\n  - run: echo b\n");
  const loaded = await loadWorkflow(main);
  assert.equal([...loaded.includes.keys()], [join(dir, "lib/a.yaml"), join(dir, "lib/b.yaml")]);
  const a = loaded.includes.get(join(dir, "lib/a.yaml"))!;
  assert.is(a.includes.get(join(dir, "lib/b.yaml")), loaded.includes.get(join(dir, "lib/b.yaml")));
  const inner = (loaded.workflow.steps[1] as ParallelStep).parallel[1] as IncludeStep;
  assert.is(includedWorkflow(loaded, inner).name, "bee");
});

test("with: is checked on every include of a file, not only the first", async () => {
  const main = write("main.yaml", "version: 1\nsteps:\n  - include: lib.yaml\n    with: { n: 1 }\n  - include: lib.yaml\n    with: { m: 2 }\n");
  write("lib.yaml", "version: 1\nvars: { n: 0 }\nsteps:\n  - run: echo ${{ vars.n }}\n");
  const e = (await loadError(main)) as WorkflowInvalidError;
  assert.equal(
    e.issues.map((i) => `${i.line}:${i.column} ${i.path}`),
    ["6:13 steps[1].with.m"],
  );
  assert.match(e.message, /lib\.yaml has no var "m"; expected one of n$/);
});

test("a file including itself is a cycle", async () => {
  const self = write("self.yaml", "version: 1\nsteps:\n  - run: x\n  - include: ./self.yaml\n");
  const e = (await loadError(self)) as WorkflowInvalidError;
  assert.is(e.issues.length, 1);
  assert.is(`${e.issues[0]!.line}:${e.issues[0]!.column}`, "4:14");
  assert.match(e.message, /include cycle .*self\.yaml -> .*self\.yaml; expected a file that does not include this one/);
});

test("validateWorkflowText is pure and returns the typed workflow when valid", () => {
  const ok = validateWorkflowText("version: 1\nsteps:\n  - run: echo ${{ vars.x || 'y' }}\nvars: { x: '' }\n", "w.yaml");
  assert.equal(ok.issues, []);
  assert.is((ok.workflow!.steps[0] as RunStep).run, "echo ${{ vars.x || 'y' }}");
  const bad = validateWorkflowText("version: 1\nsteps:\n  - include: missing.yaml\n", "w.yaml");
  assert.equal(bad.issues, [], "included files are only read by loadWorkflow");
  const invalid = validateWorkflowText("version: 1\nsteps: {}\n", "w.yaml");
  assert.is(invalid.workflow, undefined);
  assert.equal(invalid.issues, [{ file: "w.yaml", line: 2, column: 8, path: "steps", message: "got an empty mapping; expected a list of at least one step" }]);
});

test("expression errors point into quoted and block strings", () => {
  const cases: [string, string][] = [
    ['  - run: "echo ${{ bad( }}"\n', "3:20"],
    ["  - run: 'it''s ${{ bad( }}'\n", "3:21"],
    ["  - run: |\n      echo one\n      echo ${{ vars.a ! }}\n", "5:23"],
    ["  - run: >-\n      echo\n      ${{ nope }}\n", "5:11"],
    ['  - run: "tab\\t${{ nope }}"\n', "3:20"],
    ['  - run: "x\\"${{ nope }}\\" ${{ nope }}"\n', "3:10"],
  ];
  for (const [steps, at] of cases) {
    const { issues } = validateWorkflowText(`version: 1\nsteps:\n${steps}vars: { a: 1 }\n`, "w.yaml");
    assert.ok(issues.length > 0, steps);
    assert.is(`${issues[0]!.line}:${issues[0]!.column}`, at, `${steps} -> ${issues[0]!.message}`);
  }
});

test("checks on names inside expressions", () => {
  const text = [
    "version: 1",
    "vars:",
    "  a: ${{ vars.b }}",
    "  b: x",
    "  c: ${{ vars.a }}",
    "steps:",
    "  - id: s1",
    "    run: echo ${{ cilo.workspace }} ${{ job.state }}",
    "  - run: echo ${{ steps.s1.outcome }} ${{ steps.s2.outputs.x }} ${{ env.ANYTHING }}",
    "    if: steps.s1.outputs.ok && cilo.base_uri",
  ].join("\n");
  const messages = validateWorkflowText(text, "w.yaml").issues.map((i) => `${i.line}:${i.column} ${i.message}`);
  assert.equal(messages, [
    "3:15 vars.b is not set yet here, because vars are evaluated in order; expected a var declared above",
    '8:45 job has no "state"; expected status',
    '9:49 unknown step id "s2"; expected the id of a step: s1',
    '10:37 cilo has no "base_uri" (did you mean "base_url"?); expected one of env, project, workspace, base_url, dns_suffix',
  ]);
});

test("YAML that expands into huge data (an alias bomb) is refused, not expanded", () => {
  const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 8; i++)
    lines.push(
      `l${i}: &l${i} [${Array(10)
        .fill(i === 1 ? "*a" : `*l${i - 1}`)
        .join(", ")}]`,
    );
  const { issues } = validateWorkflowText(lines.join("\n"), "bomb.yaml");
  assert.is(issues.length, 1);
  assert.match(issues[0]!.message, /resource exhaustion/);
});

test.run();
