// Workflows of host steps only, through the real CLI (dist/cilo.mjs): retry, timeout,
// continue_on_error, parallel, outputs, include, renderers, invalid files, workflow new/validate.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, ciloAsync, ciloCommand, removeDir, repoRoot, startCilo, tempDir } from "../helpers/cli.ts";
import { events } from "../helpers/events.ts";
import { alive, until } from "../helpers/until.ts";

const fixtures = join(repoRoot, "test/fixtures/engine");
const home = tempDir("cilo-wfh-home-");
const dirs: string[] = [home];

/** A fresh WORK_DIR for one run; the fixtures write their traces there. */
function work(): string {
  const d = tempDir("cilo-wfh-");
  dirs.push(d);
  return d;
}

function runFixture(name: string, args: string[] = [], env: Record<string, string> = {}) {
  return cilo(["run", join(fixtures, `${name}.yaml`), ...args], { home, env, timeoutMs: 120_000 });
}

test("retry: a step that fails twice succeeds on its third attempt, with a growing pause", () => {
  const dir = work();
  const r = runFixture("retry", ["--json"], { WORK_DIR: dir });
  assert.is(r.code, 0, r.stderr);
  assert.is(readFileSync(join(dir, "count"), "utf8").trim(), "3");
  assert.is(readFileSync(join(dir, "hopeless"), "utf8"), "x\nx\n", "retry: 1 means two attempts");
  const ev = events(r.stdout);
  assert.equal(
    ev.filter((e) => e.type === "step_retry" && e.path === "1").map((e) => e.delay_ms),
    [200, 400],
  );
  const flaky = ev.find((e) => e.type === "step_end" && e.path === "1");
  assert.is(flaky.outcome, "success");
  assert.is(flaky.attempts, 3);
  assert.ok(flaky.duration_ms >= 600, `${flaky.duration_ms} ms`);
});

test("timeout: the step is stopped with its process tree, later steps skipped, the always() step runs; exit 1", () => {
  const dir = work();
  const t0 = Date.now();
  const r = runFixture("timeout", [], { WORK_DIR: dir });
  assert.is(r.code, 1, r.stderr);
  assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
  assert.match(r.stdout, /\[1\] too slow: failure in 1\.\ds: timed out after 1\.0s/);
  assert.match(r.stdout, /\[2\] after: skipped: an earlier step failed/);
  assert.is(readFileSync(join(dir, "cleanup"), "utf8").trim(), "cleanup after failure");
  const child = Number(readFileSync(join(dir, "child"), "utf8"));
  assert.not.ok(alive(child), `background child ${child} of the step is still running`);
  assert.equal(r.stderr.trimEnd().split("\n"), ['cilo: The workflow timeout failed: step 1 "too slow" failed: timed out after 1.0s']);
});

test("continue_on_error: the failure is recorded as the step's outcome and the workflow succeeds", () => {
  const dir = work();
  const out = join(dir, "outputs");
  const r = runFixture("continue", ["--outputs-file", out], { WORK_DIR: dir });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /\[1\] run exit 5: failure in \d+ms: exited with code 5/);
  assert.match(r.stdout, /\| lint was failure/);
  assert.match(r.stdout, /skipped: its condition is false: failure\(\)/);
  assert.is(readFileSync(out, "utf8"), "next_seen=failure\n");
});

test("parallel: children run at the same time, needs orders them, a failing child fails the step", () => {
  const dir = work();
  const r = runFixture("parallel", [], { WORK_DIR: dir });
  assert.is(r.code, 1, r.stderr);
  const at = (f: string) => Number(readFileSync(join(dir, f), "utf8")) / 1e6;
  const [a, b, c, d] = ["a", "b", "c", "d"].map(at) as [number, number, number, number];
  assert.ok(Math.max(a, b, c) - Math.min(a, b, c) < 500, `a, b, c ended ${Math.max(a, b, c) - Math.min(a, b, c)} ms apart`);
  assert.ok(d >= Math.max(a, b), "d needs a and b");
  assert.ok(existsSync(join(dir, "sibling")), "the sibling of the failing child ran to its end");
  assert.not.ok(existsSync(join(dir, "after")));
  assert.match(r.stdout, /\[2\] parallel \(2 steps\): failure in \d+ms: a step inside it failed/);
  assert.match(r.stderr, /step 2\.1 "run exit 7" failed: exited with code 7/);
});

test("a second interruption stops the clean-up at once: exit 130, its processes killed, the rest not run", async () => {
  const dir = work();
  const { child, done } = startCilo(["run", join(fixtures, "abandon.yaml"), "--json"], { home, env: { WORK_DIR: dir } });
  await until("the step starts", () => existsSync(join(dir, "step")));
  child.kill("SIGINT");
  await until("the clean-up step starts", () => existsSync(join(dir, "cleanup")));
  const t0 = Date.now();
  child.kill("SIGINT");
  const { code, stdout, stderr } = await done;
  assert.is(code, 130, stderr);
  // At once rather than after the clean-up step's 30 s: a hang guard, not a speed target.
  assert.ok(Date.now() - t0 < 10_000, `exited ${Date.now() - t0} ms after the second SIGINT`);
  assert.match(stderr, /^cilo: The workflow abandon was stopped at once; its clean-up did not run\n$/);
  await until("the clean-up process ends", () => !alive(Number(readFileSync(join(dir, "cleanup"), "utf8"))));
  assert.not.ok(existsSync(join(dir, "never")));
  const ev = events(stdout);
  assert.is(ev.at(-1).type, "workflow_end");
  assert.is(ev.at(-1).outcome, "cancelled");
  assert.ok(ev.some((e) => e.type === "notice" && /Stopped at once by a second interruption/.test(e.message)));
});

test("outputs flow between steps and into --outputs-file (appended, GITHUB_OUTPUT format)", () => {
  const dir = work();
  const out = join(dir, "github_output");
  writeFileSync(out, "earlier=kept\n");
  const r = runFixture("outputs", ["--outputs-file", out], { WORK_DIR: dir });
  assert.is(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /\| hello x3/);
  assert.match(r.stdout, /\| conditions read outputs/);
  const text = readFileSync(out, "utf8");
  assert.match(text, /^earlier=kept\nmake_word=hello\nmake_count=3\nmake_notes<<(ghadelimiter_[0-9a-f]+)\nfirst line\nsecond line\n\1\nuse_shout=HELLO\n$/);
});

test("include: another file's steps run with vars from with:, its outputs come back", () => {
  const r = runFixture("include", ["--json"]);
  assert.is(r.code, 0, r.stderr + r.stdout);
  const ev = events(r.stdout);
  assert.equal(
    ev.filter((e) => e.type === "step_output").map((e) => [e.path, e.line.trim()]),
    [
      ["1.1", "hello world hello world"],
      ["3.1", "hello nobody"],
    ],
  );
  assert.equal(ev.at(-1).outputs, { hi: { text: "hello world hello world" } });
});

test("under a pipe: no escape sequences even from coloured commands; --json is NDJSON; --junit writes a report", () => {
  const plain = runFixture("host");
  assert.is(plain.code, 0, plain.stderr);
  assert.not.match(plain.stdout + plain.stderr, /\x1b/);
  assert.match(plain.stdout, /\[1\] \| green and plain/);
  assert.match(plain.stdout, /Summary of host: success in/);
  const junit = join(work(), "report.xml");
  const json = runFixture("host", ["--json", "--junit", junit]);
  assert.is(json.code, 0, json.stderr);
  const parsed = events(json.stdout);
  assert.is(parsed[0].type, "workflow_start");
  assert.is(parsed.at(-1).type, "workflow_end");
  assert.is(parsed.at(-1).exit_code, 0);
  assert.ok(parsed.every((e) => typeof e.ts === "string"));
  const xml = readFileSync(junit, "utf8");
  assert.match(xml, /<testsuite name="host" tests="6" failures="0" errors="0" skipped="1"/);
  assert.is((xml.match(/<testcase /g) ?? []).length, 6);
  assert.not.match(xml, /\x1b/);
});

test("on a terminal the listr2 renderer shows the steps; with CI set the plain one is used", () => {
  const script = spawnSync("script", ["--version"], { encoding: "utf8" });
  assert.is(script.status, 0, "util-linux script(1) is needed to give cilo a terminal");
  const command = [...ciloCommand(), "run", join(fixtures, "host.yaml")].map((a) => `'${a}'`).join(" ");
  // The suite itself may run with CI set (as CI does): the interactive case must not inherit it.
  const { CI: _ci, NO_COLOR: _nc, ...outer } = process.env;
  const tty = (env: Record<string, string>) =>
    spawnSync("script", ["-qefc", command, "/dev/null"], { encoding: "utf8", env: { ...outer, CILO_HOME: home, TERM: "xterm", ...env }, timeout: 60_000 });
  const interactive = tty({});
  assert.is(interactive.status, 0, interactive.stdout);
  assert.match(interactive.stdout, /coloured output/);
  assert.match(interactive.stdout, /parallel \(2 steps\)/);
  assert.match(interactive.stdout, /[✔✓]/);
  assert.match(interactive.stdout, /Summary of host: success/);
  const ci = tty({ CI: "1", NO_COLOR: "1" });
  assert.is(ci.status, 0, ci.stdout);
  assert.match(ci.stdout, /\d\d:\d\d:\d\d \[1\] coloured output: started/);
  assert.not.match(ci.stdout, /\x1b\[\d*[ABCDGJK]/, "no cursor movement");
});

test("invalid workflows: one line naming file:line:col, exit 2, through cilo run and cilo workflow validate", async () => {
  const dir = join(repoRoot, "test/fixtures/workflows/invalid");
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
  assert.ok(files.length >= 10);
  const check = async (f: string) => {
    const want = /^# expect: (?:([\w./-]+\.yaml):)?(\d+):(\d+) (.+)$/.exec(readFileSync(join(dir, f), "utf8").split("\n")[0]!)!;
    const shown = relative(repoRoot, join(dir, want[1] ?? f));
    const r = await ciloAsync(["run", join(dir, f)], { home });
    assert.is(r.code, 2, `${f}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split("\n");
    assert.ok(lines.length === 1 || (lines.length === 2 && lines[1]!.startsWith("hint: ")), `${f}: ${r.stderr}`);
    assert.ok(lines[0]!.startsWith(`cilo: ${shown}:${want[2]}:${want[3]}: `), `${f}: ${lines[0]}`);
    assert.ok(lines[0]!.includes(want[4]!), `${f}: ${lines[0]} lacks ${want[4]}`);
    assert.is(r.stdout, "");
    if (!["include-cycle.yaml", "two-actions.yaml", "yaml-syntax.yaml"].includes(f)) return;
    const v = await ciloAsync(["workflow", "validate", join(dir, f)], { home });
    assert.is(v.code, 2, f);
    assert.ok(v.stdout.startsWith(`${shown}:${want[2]}:${want[3]}: `), `${f}: ${v.stdout}`);
    assert.match(v.stderr, /^cilo: .+ is not a valid workflow: \d+ problems? \(listed above\)\n$/);
  };
  for (let i = 0; i < files.length; i += 3) await Promise.all(files.slice(i, i + 3).map(check));
});

test("workflow validate, new and list-templates", () => {
  const ok = cilo(["workflow", "validate", "workflows/basic-e2e.yaml"], { home });
  assert.is(ok.code, 0, ok.stderr);
  assert.is(ok.stdout, "OK workflows/basic-e2e.yaml\n");
  const cwd = work();
  const made = cilo(["workflow", "new"], { home, cwd });
  assert.is(made.code, 0, made.stderr);
  assert.is(made.stdout, "Wrote cilo.workflow.yaml from the e2e template\n");
  assert.is(cilo(["workflow", "validate", "cilo.workflow.yaml"], { home, cwd }).code, 0);
  const again = cilo(["workflow", "new"], { home, cwd });
  assert.is(again.code, 2);
  assert.match(again.stderr, /^cilo: .*cilo\.workflow\.yaml already exists; cilo workflow new does not overwrite files\n/);
  const agent = cilo(["workflow", "new", "--template", "agent", "--output", "agent.yaml"], { home, cwd });
  assert.is(agent.code, 0, agent.stderr);
  assert.is(cilo(["workflow", "validate", "agent.yaml"], { home, cwd }).code, 0);
  const list = cilo(["workflow", "list-templates", "--json"], { home });
  assert.is(list.code, 0);
  assert.equal(
    JSON.parse(list.stdout).map((t: any) => t.name),
    ["agent", "e2e", "preview", "ci/github-actions", "ci/gitlab-ci"],
  );
  assert.match(cilo(["workflow", "list-templates"], { home }).stdout, /^NAME\s+KIND\s+WRITES\s+DESCRIPTION\n/);
});

test("usage errors of cilo run: exit 2 with one line", () => {
  for (const [args, re] of [
    [["run", "echo hi"], /is not a workflow file \(\.yaml or \.yml\), and no env was given/],
    [["run", join(fixtures, "outputs.yaml"), "--var", "nope=1"], /has no var "nope"/],
    [["run", join(fixtures, "outputs.yaml"), "--var", "greeting"], /--var "greeting" is not name=value/],
    [["run", join(fixtures, "missing.yaml")], /The workflow file .*missing\.yaml does not exist/],
    [["run", join(fixtures, "outputs.yaml"), "--from", "."], /--from cannot be used when running a workflow file/],
    [["run", "echo hi", "some-env", "--keep"], /--keep cannot be used when running a command/],
    [["workflow", "frobnicate"], /Unknown workflow action "frobnicate"/],
  ] as const) {
    const r = cilo([...args], { home });
    assert.is(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr.split("\n")[0]!, re);
  }
});

test.after(() => {
  for (const d of dirs) removeDir(d);
});

test.run();
