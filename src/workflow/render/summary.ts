import type { StepSummary, WorkflowEvent } from "../events.ts";
import { formatDuration } from "../format-duration.ts";

type WorkflowEnd = Extract<WorkflowEvent, { type: "workflow_end" }>;

/** The end-of-run summary: one line per step with its outcome and time, nested steps indented. */
export function summaryLines(end: WorkflowEnd): string[] {
  const width = Math.max(0, ...end.steps.map((s) => s.path.length));
  // Under the summary, the last lines of each failed step, as GitHub Actions expands a failed step.
  const tails = end.steps
    .filter((s) => s.outcome === "failure" && s.log_tail && s.log_tail.length > 0)
    .flatMap((s) => [
      "",
      `Last ${s.log_tail!.length} line${s.log_tail!.length === 1 ? "" : "s"} of [${s.path}] ${s.title}:`,
      ...s.log_tail!.map((l) => `  ${l}`),
    ]);
  return [
    `Summary of ${end.name}: ${end.outcome} in ${formatDuration(end.duration_ms)}`,
    ...end.steps.map(
      (s) =>
        `  ${s.outcome.padEnd(9)} ${(s.outcome === "skipped" ? "" : formatDuration(s.duration_ms)).padStart(7)}  ${`[${s.path}]`.padEnd(width + 2)} ${indent(s)}${s.title}${detail(s)}`,
    ),
    ...tails,
  ];
}

function indent(s: StepSummary): string {
  return "  ".repeat(s.path.startsWith("cleanup") ? 0 : s.path.split(".").length - 1);
}

function detail(s: StepSummary): string {
  if (s.error) return ` — ${s.error.split("\n")[0]}`;
  if (s.reason) return ` — ${s.reason}`;
  return "";
}
