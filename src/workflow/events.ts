import type { StepOutcome } from "./expression/context.ts";
import type { ActionName } from "./types.ts";

/**
 * Where a step sits in the run, 1-based: `"3"` is the third step of the file, `"3.2"` the second
 * child of that step (a `parallel` or `include`), `"cleanup.1"` the first automatic clean-up.
 */
export type StepPath = string;

/** A step as announced before the run starts, with the children of `parallel` and `include`. */
export interface PlannedStep {
  path: StepPath;
  title: string;
  action: ActionName;
  id?: string;
  children?: PlannedStep[];
}

/** How a whole run ended. */
export type RunOutcome = "success" | "failure" | "cancelled";

/** One line of a step's summary at the end of a run. */
export interface StepSummary {
  path: StepPath;
  title: string;
  action: ActionName;
  id?: string;
  outcome: StepOutcome;
  duration_ms: number;
  /** Why it failed (failure, cancelled). */
  error?: string;
  /** Why it did not run (skipped). */
  reason?: string;
  /** A failed step's last output lines (at most 30), as a terminal would have shown them. */
  log_tail?: string[];
}

/**
 * What a workflow run reports, in order. Renderers (TTY, plain, NDJSON, JUnit) only consume these;
 * `--json` prints them one per line. Fields may be added, never renamed. `ts` is an ISO time.
 */
export type WorkflowEvent =
  | { type: "workflow_start"; ts: string; name: string; file: string; steps: PlannedStep[] }
  | { type: "step_start"; ts: string; path: StepPath; title: string; action: ActionName; id?: string }
  | {
      type: "step_output";
      ts: string;
      path: StepPath;
      stream: "stdout" | "stderr";
      line: string;
      /** A progress line (compose pulling, creating, starting), not output the step's command wrote. */
      progress?: true;
    }
  | { type: "step_retry"; ts: string; path: StepPath; attempt: number; error: string; delay_ms: number }
  | ({ type: "step_end"; ts: string; attempts: number; outputs?: Record<string, string> } & StepSummary)
  | { type: "notice"; ts: string; message: string }
  | {
      type: "workflow_end";
      ts: string;
      name: string;
      outcome: RunOutcome;
      exit_code: number;
      duration_ms: number;
      steps: StepSummary[];
      /** Outputs of the steps with an id, by id. */
      outputs: Record<string, Record<string, string>>;
      /** What the run made and did not remove, each with the command that removes it. */
      left_behind: string[];
    };

export type EventSink = (event: WorkflowEvent) => void;

/** Something that shows a run: fed every event, then awaited once the run has ended. */
export interface WorkflowRenderer {
  onEvent: EventSink;
  done(): Promise<void>;
}
