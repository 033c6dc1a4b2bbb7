import { test } from "uvu";
import * as assert from "uvu/assert";
import type { WorkflowEvent } from "../../src/workflow/events.ts";
import { jsonRenderer } from "../../src/workflow/render/json-renderer.ts";
import { junitXml } from "../../src/workflow/render/junit-report.ts";
import { plainRenderer } from "../../src/workflow/render/plain-renderer.ts";
import { summaryLines } from "../../src/workflow/render/summary.ts";
import { events as ndjsonEvents } from "../helpers/events.ts";

const ts = "2030-01-02T03:04:05.000Z";
const events: WorkflowEvent[] = [
  { type: "workflow_start", ts, name: "demo", file: "demo.yaml", steps: [{ path: "1", title: "build", action: "run" }] },
  { type: "step_start", ts, path: "1", title: "build", action: "run" },
  { type: "step_output", ts, path: "1", stream: "stdout", line: "\x1b[32mgreen\x1b[0m text \x1b]8;;http://x\x07link\x1b]8;;\x07" },
  { type: "step_output", ts, path: "1", stream: "stderr", line: "warning <&>\u0001" },
  { type: "step_retry", ts, path: "1", attempt: 2, error: "exited with code 1", delay_ms: 500 },
  { type: "step_end", ts, path: "1", title: "build", action: "run", outcome: "failure", duration_ms: 1234, attempts: 2, error: 'exited "badly"\nwith details' },
  { type: "step_end", ts, path: "2", title: "deploy", action: "run", outcome: "skipped", duration_ms: 0, attempts: 0, reason: "an earlier step failed" },
  { type: "step_start", ts, path: "cleanup.1", title: "destroy p/e (created by this run)", action: "destroy" },
  { type: "step_end", ts, path: "cleanup.1", title: "destroy p/e (created by this run)", action: "destroy", outcome: "success", duration_ms: 900, attempts: 1 },
  { type: "notice", ts, message: "Left behind:\n  nothing" },
  {
    type: "workflow_end",
    ts,
    name: "demo",
    outcome: "failure",
    exit_code: 1,
    duration_ms: 5000,
    steps: [
      { path: "1", title: "build", action: "run", outcome: "failure", duration_ms: 1234, error: 'exited "badly"\nwith details' },
      { path: "2", title: "deploy", action: "run", outcome: "skipped", duration_ms: 0, reason: "an earlier step failed" },
      { path: "cleanup.1", title: "destroy p/e (created by this run)", action: "destroy", outcome: "success", duration_ms: 900 },
    ],
    outputs: {},
    left_behind: [],
  },
];

test("plain: one time-stamped line per event, no escape sequences, durations, then the summary", () => {
  let out = "";
  const r = plainRenderer((t) => (out += t));
  for (const e of events) r.onEvent(e);
  assert.not.match(out, /\x1b/);
  const lines = out.trimEnd().split("\n");
  const stamped = lines.slice(0, lines.indexOf(lines.find((l) => l.startsWith("Summary"))!));
  for (const l of stamped) assert.match(l, /^\d\d:\d\d:\d\d /, l);
  assert.ok(
    lines.some((l) => / \[1\] \| green text link$/.test(l)),
    out,
  );
  assert.ok(
    lines.some((l) => / \[1\] ! warning <&>/.test(l)),
    out,
  );
  assert.ok(
    lines.some((l) => /\[1\] attempt 1 failed \(exited with code 1\); retrying in 500ms/.test(l)),
    out,
  );
  assert.ok(
    lines.some((l) => /\[1\] build: failure in 1\.2s \(2 attempts\): exited "badly"$/.test(l)),
    out,
  );
  assert.ok(
    lines.some((l) => /\[1\] {3}with details$/.test(l)),
    out,
  );
  assert.ok(
    lines.some((l) => /\[2\] deploy: skipped: an earlier step failed$/.test(l)),
    out,
  );
  assert.ok(
    lines.some((l) => /^\d\d:\d\d:\d\d {3}nothing$/.test(l)),
    out,
  );
  assert.match(out, /Summary of demo: failure in 5\.0s/);
});

test("json: every event is one parseable line, in order", () => {
  let out = "";
  const r = jsonRenderer((t) => (out += t));
  for (const e of events) r.onEvent(e);
  const parsed = ndjsonEvents(out);
  assert.equal(
    parsed.map((e) => e.type),
    events.map((e) => e.type),
  );
  assert.equal(parsed[2].line, (events[2] as { line: string }).line);
});

test("summary: outcome, time and detail per step; skipped steps show no time", () => {
  const end = events.at(-1) as Extract<WorkflowEvent, { type: "workflow_end" }>;
  const lines = summaryLines(end);
  assert.is(lines[0], "Summary of demo: failure in 5.0s");
  assert.match(lines[1]!, /^ {2}failure\s+1\.2s {2}\[1\]\s+build — exited "badly"$/);
  assert.match(lines[2]!, /^ {2}skipped\s+\[2\]\s+deploy — an earlier step failed$/);
  assert.match(lines[3]!, /^ {2}success\s+900ms {2}\[cleanup\.1\] destroy p\/e/);
});

test("summary: under it, each failed step's last output lines; none for steps that did not fail", () => {
  const end = events.at(-1) as Extract<WorkflowEvent, { type: "workflow_end" }>;
  const withTail = {
    ...end,
    steps: end.steps.map((s) =>
      s.path === "1" ? { ...s, log_tail: ["npm ERR! test failed", "  at line 3"] } : s.path === "cleanup.1" ? { ...s, log_tail: ["x"] } : s,
    ),
  };
  const lines = summaryLines(withTail);
  assert.equal(lines.slice(-4), ["", "Last 2 lines of [1] build:", "  npm ERR! test failed", "    at line 3"]);
  assert.not.ok(
    lines.some((l) => l.includes("[cleanup.1] destroy") && l.startsWith("Last")),
    "a step that succeeded shows no tail",
  );
  assert.equal(
    summaryLines(end).filter((l) => l.startsWith("Last")),
    [],
    "no tail recorded, none shown",
  );
});

test("plain: compose progress lines are marked '-', not '!' like the command's stderr", () => {
  let out = "";
  const r = plainRenderer((t) => (out += t));
  r.onEvent({ type: "step_output", ts, path: "2", stream: "stderr", line: "Creating web ... done", progress: true });
  r.onEvent({ type: "step_output", ts, path: "2", stream: "stderr", line: "WARNING: something" });
  assert.match(out, /\[2\] - Creating web \.\.\. done\n/);
  assert.match(out, /\[2\] ! WARNING: something\n/);
});

test("junit: one test case per step, failures, skips, escaped text and output", () => {
  const ends = events.filter((e): e is Extract<WorkflowEvent, { type: "step_end" }> => e.type === "step_end");
  const xml = junitXml("demo <&>", ts, 5000, ends, new Map([["1", ["\x1b[31mred\x1b[0m", "bad \u0001 char ]]>"]]]));
  assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="cilo" tests="3" failures="1" errors="0" skipped="1" time="5\.000">/);
  assert.match(xml, /<testsuite name="demo &lt;&amp;&gt;" tests="3"/);
  assert.match(xml, /<testcase name="\[1\] build" classname="demo &lt;&amp;&gt;\.run" time="1\.234">/);
  assert.match(xml, /<failure message="exited &quot;badly&quot;" type="failure">exited "badly"\nwith details<\/failure>/);
  assert.match(xml, /<skipped message="an earlier step failed"\/>/);
  assert.match(xml, /<system-out>red\nbad \uFFFD char \]\]&gt;<\/system-out>/);
  assert.match(xml, /<testcase name="\[cleanup\.1\] destroy p\/e \(created by this run\)" classname="demo &lt;&amp;&gt;\.destroy" time="0\.900"\/>/);
  assert.not.match(xml, /[\x00-\x08\x1b]/);
});

test.run();
