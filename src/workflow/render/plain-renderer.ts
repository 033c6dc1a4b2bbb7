import type { WorkflowEvent, WorkflowRenderer } from "../events.ts";
import { formatDuration } from "../format-duration.ts";
import { stripVTControlCharacters } from "node:util";
import { summaryLines } from "./summary.ts";

/**
 * One line per event for logs and CI: a local time stamp, the step's path, what happened and how
 * long it took. No colours, no spinners, no cursor movement. Ends with the summary.
 */
export function plainRenderer(write: (text: string) => void = (t) => process.stdout.write(t)): WorkflowRenderer {
  const line = (ts: string, text: string) => write(`${clock(ts)} ${stripVTControlCharacters(text)}\n`);
  return {
    onEvent(e: WorkflowEvent) {
      switch (e.type) {
        case "workflow_start":
          line(e.ts, `workflow ${e.name} (${e.file}): ${e.steps.length} step${e.steps.length === 1 ? "" : "s"}`);
          break;
        case "step_start":
          line(e.ts, `[${e.path}] ${e.title}: started`);
          break;
        case "step_output":
          // `|` the command's stdout, `!` its stderr, `-` progress (compose pulling, creating, starting).
          line(e.ts, `[${e.path}] ${e.progress ? "-" : e.stream === "stderr" ? "!" : "|"} ${e.line}`);
          break;
        case "step_retry":
          line(
            e.ts,
            `[${e.path}] attempt ${e.attempt - 1} failed (${firstLine(e.error)}); retrying${e.delay_ms > 0 ? ` in ${formatDuration(e.delay_ms)}` : ""}`,
          );
          break;
        case "step_end": {
          const why = e.error ? `: ${e.error}` : e.reason ? `: ${e.reason}` : "";
          const took = e.outcome === "skipped" ? "" : ` in ${formatDuration(e.duration_ms)}${e.attempts > 1 ? ` (${e.attempts} attempts)` : ""}`;
          const text = `[${e.path}] ${e.title}: ${e.outcome}${took}${why}`;
          for (const [i, l] of text.split("\n").entries()) line(e.ts, i === 0 ? l : `[${e.path}]   ${l}`);
          break;
        }
        case "notice":
          for (const l of e.message.split("\n")) line(e.ts, l);
          break;
        case "workflow_end":
          for (const l of summaryLines(e)) write(`${stripVTControlCharacters(l)}\n`);
          break;
      }
    },
    async done() {},
  };
}

function clock(ts: string): string {
  const d = new Date(ts);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? "";
}
