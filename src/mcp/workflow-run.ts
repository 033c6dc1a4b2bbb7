import type { CiloContext } from "../core/context/context.ts";
import { WorkflowRunner } from "../workflow/engine.ts";
import type { StepSummary, WorkflowEvent } from "../workflow/events.ts";
import { loadWorkflow } from "../workflow/load.ts";

export interface McpWorkflowRun {
  /** The workflow file, or with `text` where the inline workflow is taken to be. */
  file: string;
  text?: string;
  vars: Record<string, string>;
  keep: boolean;
  signal: AbortSignal;
  progress: (message: string) => void;
}

/**
 * MCP `workflow_run`: loads the workflow as `cilo run <file>` does and runs it with the same
 * runner; each step's start and end (and the run's notices) go out as progress messages. Envs it
 * creates ephemeral get this process as owner, so they go with the session too. Aborting (the
 * client cancels, the session ends) interrupts the run as a SIGTERM would.
 */
export async function runWorkflowForMcp(ctx: CiloContext, opts: McpWorkflowRun): Promise<Record<string, unknown>> {
  const loaded = await loadWorkflow(opts.file, { vars: opts.vars, ...(opts.text !== undefined ? { text: opts.text } : {}) });
  let end: Extract<WorkflowEvent, { type: "workflow_end" }> | undefined;
  const runner = new WorkflowRunner(loaded, {
    ctx,
    keep: opts.keep,
    onEvent: (e) => {
      if (e.type === "workflow_end") end = e;
      const line = progressLine(e);
      if (line) opts.progress(line);
    },
  });
  const onAbort = () => runner.interrupt("SIGTERM");
  opts.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const result = await runner.run();
    return {
      outcome: result.outcome,
      exit_code: result.exitCode,
      ...(result.reason ? { reason: result.reason } : {}),
      duration_ms: end?.duration_ms ?? 0,
      outputs: result.outputs,
      failed_steps: (end?.steps ?? []).filter((s) => s.outcome === "failure").map(failedStep),
      left_behind: result.leftBehind,
    };
  } finally {
    opts.signal.removeEventListener("abort", onAbort);
  }
}

function failedStep(s: StepSummary) {
  return { path: s.path, title: s.title, ...(s.error ? { error: s.error } : {}), log_tail: s.log_tail ?? [] };
}

/** One progress message per event a person following the run would want; none for output lines. */
function progressLine(e: WorkflowEvent): string | undefined {
  switch (e.type) {
    case "workflow_start":
      return `workflow ${e.name}: ${e.steps.length} steps`;
    case "step_start":
      return `step ${e.path} started: ${e.title}`;
    case "step_retry":
      return `step ${e.path} retry ${e.attempt}: ${e.error}`;
    case "step_end":
      return `step ${e.path} ${e.outcome}: ${e.title}${e.error ? ` (${e.error})` : ""}`;
    case "notice":
      return e.message;
    case "workflow_end":
      return `workflow ${e.name} ${e.outcome}`;
    default:
      return undefined;
  }
}
