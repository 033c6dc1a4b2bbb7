import type { Value } from "./values.ts";

/** How a step ended, as `steps.<id>.outcome` reads it. */
export type StepOutcome = "success" | "failure" | "skipped" | "cancelled";

/** What the engine knows about one finished step. */
export interface StepResult {
  outputs: Record<string, Value>;
  outcome: StepOutcome;
}

/** The fields of `cilo.*`. */
export const CILO_FIELDS = ["env", "project", "workspace", "base_url", "dns_suffix"] as const;

/** `cilo.*`: the env the workflow works on, once `create` (or `clone`) has set it. */
export type CiloContext = { [K in (typeof CILO_FIELDS)[number]]?: string | null };

/** The fields of `steps.<id>.*`. */
export const STEP_FIELDS = ["outputs", "outcome"] as const;

/**
 * Everything an expression can read. All parts are optional; what is missing reads as null.
 * `status` feeds `success()`, `failure()`, `cancelled()` and `job.status`.
 */
export interface ExpressionContext {
  vars?: Record<string, Value>;
  /** The process environment overlaid with the workflow's and the step's `env:`. */
  env?: Record<string, string | undefined>;
  cilo?: CiloContext;
  steps?: Record<string, StepResult>;
  status?: RunStatus;
}

/** The run so far: has a step failed (without `continue_on_error`), has the run been interrupted. */
export interface RunStatus {
  failed: boolean;
  cancelled: boolean;
}

/** `job.status`: `cancelled` wins over `failure`. */
export function jobStatus(status: RunStatus | undefined): "success" | "failure" | "cancelled" {
  if (status?.cancelled) return "cancelled";
  return status?.failed ? "failure" : "success";
}
