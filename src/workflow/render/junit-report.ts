import { writeFileAtomic } from "../../core/fs/atomic-write.ts";
import type { StepPath, WorkflowEvent, WorkflowRenderer } from "../events.ts";
import { stripVTControlCharacters } from "node:util";

type StepEnd = Extract<WorkflowEvent, { type: "step_end" }>;

const MAX_LINES = 2000;

/** `--junit <file>`: a JUnit XML report, one test case per step (with its output), written when the run ends. */
export function junitReport(file: string): WorkflowRenderer {
  const output = new Map<StepPath, string[]>();
  const ends: StepEnd[] = [];
  let started = "";
  return {
    onEvent(e: WorkflowEvent) {
      if (e.type === "workflow_start") started = e.ts;
      else if (e.type === "step_output") {
        const lines = output.get(e.path) ?? [];
        if (lines.length < MAX_LINES) lines.push(e.stream === "stderr" ? `! ${e.line}` : e.line);
        output.set(e.path, lines);
      } else if (e.type === "step_end") ends.push(e);
      else if (e.type === "workflow_end") writeFileAtomic(file, junitXml(e.name, started, e.duration_ms, ends, output));
    },
    async done() {},
  };
}

/** The XML of a run: one `<testsuite>` named after the workflow, one `<testcase>` per step. */
export function junitXml(name: string, timestamp: string, durationMs: number, ends: StepEnd[], output: Map<StepPath, string[]>): string {
  const count = (o: string) => ends.filter((e) => e.outcome === o).length;
  const cases = ends.map((e) => {
    const out = output.get(e.path);
    const body = [
      e.outcome === "failure" ? `      <failure message="${attr(firstLine(e.error))}" type="failure">${text(e.error ?? "")}</failure>` : "",
      e.outcome === "cancelled" ? `      <error message="${attr(firstLine(e.error))}" type="cancelled">${text(e.error ?? "")}</error>` : "",
      e.outcome === "skipped" ? `      <skipped message="${attr(e.reason ?? "")}"/>` : "",
      out ? `      <system-out>${text(out.join("\n"))}</system-out>` : "",
    ].filter(Boolean);
    const open = `    <testcase name="${attr(`[${e.path}] ${e.title}`)}" classname="${attr(`${name}.${e.action}`)}" time="${seconds(e.duration_ms)}"`;
    return body.length === 0 ? `${open}/>` : `${open}>\n${body.join("\n")}\n    </testcase>`;
  });
  const totals = `tests="${ends.length}" failures="${count("failure")}" errors="${count("cancelled")}" skipped="${count("skipped")}" time="${seconds(durationMs)}"`;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="cilo" ${totals}>`,
    `  <testsuite name="${attr(name)}" ${totals} timestamp="${attr(timestamp)}">`,
    ...cases,
    `  </testsuite>`,
    `</testsuites>`,
    "",
  ].join("\n");
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function firstLine(s: string | undefined): string {
  return (s ?? "").split("\n")[0] ?? "";
}

/** XML 1.0 allows neither most control characters nor unpaired surrogates. */
function clean(s: string): string {
  return stripVTControlCharacters(s).replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "\uFFFD");
}

function text(s: string): string {
  return clean(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function attr(s: string): string {
  return text(s).replace(/"/g, "&quot;").replace(/\n/g, "&#10;");
}
