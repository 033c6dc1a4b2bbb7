// The engine through its events, in-process, with host-only workflows (no Docker, cilo not initialised).
import { testContext } from "../helpers/context.ts";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { WorkflowRunner, type WorkflowResult } from "../../src/workflow/engine.ts";
import type { WorkflowEvent } from "../../src/workflow/events.ts";
import { loadWorkflow } from "../../src/workflow/load.ts";
import { until } from "../helpers/until.ts";

const dir = mkdtempSync(join(tmpdir(), "cilo-engine-"));
/** cilo is not initialised in this home: host-only workflows. */
const ctx = testContext({ home: join(dir, "home") });
let n = 0;

async function start(yaml: string, opts: { keep?: boolean; vars?: Record<string, string>; files?: Record<string, string> } = {}) {
  const folder = join(dir, `wf${++n}`);
  mkdirSync(folder, { recursive: true });
  for (const [name, text] of Object.entries(opts.files ?? {})) {
    mkdirSync(join(folder, name, ".."), { recursive: true });
    writeFileSync(join(folder, name), text);
  }
  writeFileSync(join(folder, "wf.yaml"), yaml);
  const loaded = await loadWorkflow(join(folder, "wf.yaml"), opts.vars ? { vars: opts.vars } : {});
  const events: WorkflowEvent[] = [];
  const runner = new WorkflowRunner(loaded, { ctx, keep: opts.keep ?? false, onEvent: (e) => events.push(e), processEnv: { ...process.env, WORK: folder } });
  return { runner, events, folder, done: runner.run() };
}

async function run(yaml: string, opts: Parameters<typeof start>[1] = {}): Promise<{ events: WorkflowEvent[]; result: WorkflowResult; folder: string }> {
  const s = await start(yaml, opts);
  return { events: s.events, result: await s.done, folder: s.folder };
}

const ends = (events: WorkflowEvent[]) => events.filter((e): e is Extract<WorkflowEvent, { type: "step_end" }> => e.type === "step_end");
const endOf = (events: WorkflowEvent[], path: string) => ends(events).find((e) => e.path === path)!;
const outputOf = (events: WorkflowEvent[], path: string) => events.flatMap((e) => (e.type === "step_output" && e.path === path ? [e.line] : []));

test("events come in order: start with the plan (children included), one start/end per step, end with a sorted summary", async () => {
  const { events, result } = await run(
    `version: 1
name: order
steps:
  - id: one
    run: echo "x=1" >> "$CILO_OUTPUT"
  - parallel:
      - run: sleep 0.2
      - run: "true"
  - include: part.yaml
`,
    { files: { "part.yaml": "version: 1\nsteps:\n  - run: echo inner\n" } },
  );
  assert.is(result.exitCode, 0);
  assert.is(events[0]!.type, "workflow_start");
  assert.is(events.at(-1)!.type, "workflow_end");
  const start = events[0] as Extract<WorkflowEvent, { type: "workflow_start" }>;
  assert.equal(
    start.steps.map((s) => [s.path, s.action, s.children?.map((c) => c.path) ?? []]),
    [
      ["1", "run", []],
      ["2", "parallel", ["2.1", "2.2"]],
      ["3", "include", ["3.1"]],
    ],
  );
  const starts = events.filter((e) => e.type === "step_start").map((e) => (e as { path: string }).path);
  assert.equal([...starts].sort(), ["1", "2", "2.1", "2.2", "3", "3.1"]);
  assert.equal(
    ends(events)
      .map((e) => e.path)
      .sort(),
    [...starts].sort(),
  );
  for (const e of events) assert.ok(!Number.isNaN(Date.parse(e.ts)), JSON.stringify(e));
  const end = events.at(-1) as Extract<WorkflowEvent, { type: "workflow_end" }>;
  assert.equal(
    end.steps.map((s) => s.path),
    ["1", "2", "2.1", "2.2", "3", "3.1"],
  );
  assert.equal(end.outputs, { one: { x: "1" } });
  assert.is(end.outcome, "success");
  assert.equal(outputOf(events, "3.1"), ["inner"]);
});

test("after a failure: plain steps are skipped, failure() and always() run, success() does not; exit 1", async () => {
  const { events, result } = await run(`version: 1
steps:
  - run: exit 3
  - run: echo plain
  - if: failure()
    run: echo on failure
  - if: always()
    run: echo always
  - if: success()
    run: echo on success
  - if: "true"
    run: echo implicit success
  - if: cancelled()
    run: echo cancelled
`);
  assert.is(result.exitCode, 1);
  assert.is(result.outcome, "failure");
  assert.match(result.reason!, /step 1 "run exit 3" failed: exited with code 3/);
  assert.equal(
    ends(events).map((e) => e.outcome),
    ["failure", "skipped", "success", "success", "skipped", "skipped", "skipped"],
  );
  assert.is(endOf(events, "2").reason, "an earlier step failed");
  assert.is(endOf(events, "5").reason, "its condition is false: success()");
});

test("a condition that fails to evaluate fails its step", async () => {
  const { events, result } = await run(`version: 1
steps:
  - if: fromJSON('not json')
    run: echo never
`);
  assert.is(result.exitCode, 1);
  assert.is(endOf(events, "1").outcome, "failure");
  assert.match(endOf(events, "1").error!, /^if: /);
});

test("interrupt: the running step is cancelled, always() and cancelled() steps run, failure() ones do not; exit 130", async () => {
  const s = await start(`version: 1
steps:
  - run: sleep 30
  - run: echo plain
  - if: failure()
    run: echo on failure
  - if: cancelled()
    run: echo on cancel
  - if: always()
    run: echo "status=\${{ job.status }}"
`);
  await until("a step starts", () => s.events.some((e) => e.type === "step_start"), { stepMs: 20 });
  const t0 = Date.now();
  s.runner.interrupt("SIGINT");
  const result = await s.done;
  // Not waited out: well under the step's 30 s (a speed figure belongs in bench/, not here).
  assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`);
  assert.is(result.exitCode, 130);
  assert.is(result.outcome, "cancelled");
  assert.is(result.abandoned, false);
  assert.equal(
    ends(s.events).map((e) => e.outcome),
    ["cancelled", "skipped", "skipped", "success", "success"],
  );
  assert.is(endOf(s.events, "1").error, "interrupted by SIGINT");
  assert.is(endOf(s.events, "2").reason, "the run was interrupted");
  assert.equal(outputOf(s.events, "5"), ["status=cancelled"]);
  assert.ok(s.events.some((e) => e.type === "notice" && /Interrupted by SIGINT/.test(e.message)));
});

test("SIGTERM exits 143; a second interrupt stops the clean-up at once", async () => {
  const s = await start(`version: 1
steps:
  - run: sleep 30
  - if: always()
    run: sleep 30
  - if: always()
    run: echo never
`);
  await until("a step starts", () => s.events.some((e) => e.type === "step_start"), { stepMs: 20 });
  s.runner.interrupt("SIGTERM");
  await until("step 2 starts", () => s.events.some((e) => e.type === "step_start" && e.path === "2"), { stepMs: 20 });
  const t0 = Date.now();
  s.runner.interrupt("SIGTERM");
  const result = await s.done;
  // The clean-up step's 30 s sleep is not waited out.
  assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`);
  assert.is(result.exitCode, 143);
  assert.is(result.abandoned, true);
  const last = s.events.at(-1)!;
  assert.is(last.type, "workflow_end");
  assert.ok(!s.events.some((e) => e.type === "step_start" && e.path === "3"));
});

test("the clean-up time bounds the steps that run after a failure", async () => {
  const { events, result } = await run(`version: 1
cleanup_timeout: 1s
steps:
  - run: exit 1
  - if: always()
    run: sleep 20
  - if: always()
    run: echo too late
`);
  assert.is(result.exitCode, 1);
  assert.is(endOf(events, "2").outcome, "failure");
  assert.match(endOf(events, "2").error!, /clean-up time of 1\.0s is used up/);
  assert.is(endOf(events, "3").outcome, "skipped");
  assert.match(endOf(events, "3").reason!, /clean-up time/);
});

test("retry: step_retry events with a growing pause, then success; attempts counted", async () => {
  const { events, result } = await run(`version: 1
steps:
  - retry: { count: 4, backoff: 100ms, factor: 2 }
    run: |
      n=$(( $(cat "$WORK/n" 2>/dev/null || echo 0) + 1 )); echo $n > "$WORK/n"; [ $n -ge 3 ]
`);
  assert.is(result.exitCode, 0);
  const retries = events.filter((e): e is Extract<WorkflowEvent, { type: "step_retry" }> => e.type === "step_retry");
  assert.equal(
    retries.map((r) => [r.attempt, r.delay_ms]),
    [
      [2, 100],
      [3, 200],
    ],
  );
  assert.is(endOf(events, "1").attempts, 3);
});

test("defaults apply to leaf steps; a step's own values win", async () => {
  const { events } = await run(`version: 1
defaults:
  timeout: 300ms
  retry: 1
  shell: sh
steps:
  - id: slow
    continue_on_error: true
    run: sleep 5
  - id: own
    timeout: 5s
    retry: 0
    run: sleep 0.5; echo "shell=$0" >> "$CILO_OUTPUT"
`);
  assert.is(endOf(events, "1").attempts, 2);
  assert.match(endOf(events, "1").error!, /timed out after 300ms/);
  assert.is(endOf(events, "2").outcome, "success");
  assert.is(endOf(events, "2").outputs!["shell"], "sh");
});

test("a run script stops at its first failing command (bash with pipefail, sh with -e); set +e opts out; a retry runs it again", async () => {
  const script = (shell: string) => `  - shell: ${shell}
    continue_on_error: true
    retry: { count: 1, backoff: 10ms }
    run: |
      echo "tries=x$(cat "$WORK/${shell}.tries" 2>/dev/null)" >> "$CILO_OUTPUT"
      echo x >> "$WORK/${shell}.tries"
      false
      echo "after=yes" >> "$CILO_OUTPUT"
`;
  const { events, folder } = await run(`version: 1
steps:
${script("bash")}${script("sh")}  - id: pipe
    shell: bash
    continue_on_error: true
    run: |
      false | cat
      echo "after=yes" >> "$CILO_OUTPUT"
  - id: optout
    shell: sh
    run: |
      set +e
      false
      echo "after=yes" >> "$CILO_OUTPUT"
`);
  for (const [path, shell] of [
    ["1", "bash"],
    ["2", "sh"],
  ] as const) {
    const end = endOf(events, path);
    assert.is(end.outcome, "failure", shell);
    assert.is(end.attempts, 2, shell);
    assert.match(end.error!, /exited with code 1/);
    // The second attempt's outputs: written before the failing line, nothing after it.
    assert.equal(end.outputs, { tries: "xx" }, shell);
    assert.is(readFileSync(join(folder, `${shell}.tries`), "utf8"), "x\nx\n", `${shell}: both attempts ran the script`);
  }
  assert.is(endOf(events, "3").outcome, "failure");
  assert.is(endOf(events, "3").outputs, undefined);
  assert.is(endOf(events, "4").outcome, "success");
  assert.equal(endOf(events, "4").outputs, { after: "yes" });
});

test("vars (with --var overrides), workflow env, step env and the process environment reach commands and expressions", async () => {
  const { events, result } = await run(
    `version: 1
vars:
  who: nobody
  greeting: hello \${{ vars.who }}
env:
  LEVEL: workflow
  FROM_VAR: \${{ vars.greeting }}
steps:
  - env:
      LEVEL: step
      HOME_SEEN: \${{ env.WORK != '' }}
    run: echo "$LEVEL|$FROM_VAR|$HOME_SEEN|\${{ env.LEVEL }}|$CILO_OUTPUT" | sed "s|$WORK|WORK|"
`,
    { vars: { who: "cli" } },
  );
  assert.is(result.exitCode, 0);
  const [line] = outputOf(events, "1");
  assert.match(line!, /^step\|hello cli\|true\|step\|\/.+\/step-1\.out$/);
});

test("run steps work in the workflow's folder without an env; cwd is relative to it; a missing cwd fails", async () => {
  const { events, result, folder } = await run(
    `version: 1
steps:
  - run: pwd
  - cwd: sub/dir
    run: pwd
  - cwd: nowhere
    run: pwd
`,
    { files: { "sub/dir/.keep": "" } },
  );
  assert.is(result.exitCode, 1);
  assert.equal(outputOf(events, "1"), [folder]);
  assert.equal(outputOf(events, "2"), [join(folder, "sub/dir")]);
  assert.is(endOf(events, "3").error, `The working folder ${join(folder, "nowhere")} does not exist`);
});

test("steps that need an env fail without one; destroy without an env is a no-op", async () => {
  const { events, result } = await run(`version: 1
steps:
  - destroy: {}
  - up: {}
`);
  assert.is(result.exitCode, 1);
  assert.is(endOf(events, "1").outcome, "success");
  assert.equal(outputOf(events, "1"), ["No env to destroy"]);
  assert.match(endOf(events, "2").error!, /up needs an env; add a create step before this one/);
});

test("parallel children run together; needs waits; include outputs come from its steps with an id", async () => {
  const { events, result } = await run(
    `version: 1
steps:
  - parallel:
      - id: a
        run: sleep 0.4; echo a
      - id: b
        run: sleep 0.4; echo b
      - needs: [a, b]
        run: echo "after \${{ steps.a.outcome }} \${{ steps.b.outcome }}"
  - id: inc
    include: part.yaml
    with: { word: "\${{ 'sh' }}out" }
  - run: test "\${{ steps.inc.outputs.said }}" = shout
`,
    { files: { "part.yaml": 'version: 1\nvars:\n  word: none\nsteps:\n  - id: s\n    run: echo "said=${{ vars.word }}" >> "$CILO_OUTPUT"\n' } },
  );
  assert.is(result.exitCode, 0, JSON.stringify(ends(events)));
  assert.ok(endOf(events, "1").duration_ms < 1500, `parallel took ${endOf(events, "1").duration_ms} ms`);
  assert.equal(outputOf(events, "1.3"), ["after success success"]);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
