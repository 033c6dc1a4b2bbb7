import type { ExpressionContext, StepResult } from "../expression/context.ts";
import type { Value } from "../expression/values.ts";
import type { LoadedWorkflow } from "../load.ts";
import type { RunEnvs } from "../run-envs.ts";
import type { ActionName, Step } from "../types.ts";

/** The step type that has action `A`: `StepOf<"run">` is `RunStep`, `StepOf<ActionName>` is `Step`. */
export type StepOf<A extends ActionName> = A extends unknown ? Extract<Step, { [K in A]: unknown }> : never;

/** What one attempt of a step gets to work with. */
export interface ActionRun<S extends Step = Step> {
  step: S;
  /** The workflow file the step is in (its folder, its defaults, what it includes). */
  workflow: LoadedWorkflow;
  /** What `${{ }}` expressions read; `env` holds the step's own `env:`. */
  ctx: ExpressionContext;
  /** Fires when the attempt must stop: interruption, time limit, clean-up time used up. */
  signal: AbortSignal;
  /** The envs of the run: the one later steps work on, and those to clean up. */
  envs: RunEnvs;
  /** The step's output, in chunks; whole lines become `step_output` events (default stream stderr). */
  output: (chunk: string, stream?: "stdout" | "stderr") => void;
  /** Progress of an operation (compose and the like), in chunks; blank lines are dropped. */
  progress: (chunk: string) => void;
  /** A fresh file for `$CILO_OUTPUT`. */
  outputsFile: () => string;
  /** Told the process group of a host command, so the run can end what it leaves running. */
  onProcessGroup: (pgid: number) => void;
  /** Runs child steps through the engine (for actions made of steps). */
  nested: NestedSteps;
}

/** The engine's side of actions made of steps; child steps are numbered under the step's path. */
export interface NestedSteps {
  /** Runs `steps` at once, as a group of their own; resolves whether one of them failed. */
  runGroup(steps: Step[]): Promise<{ failed: boolean }>;
  /**
   * Runs a workflow's steps in a scope of their own (`vars` override its vars; its env is over the
   * step's); resolves whether one failed and the results of its steps by id.
   */
  runWorkflow(workflow: LoadedWorkflow, vars: Record<string, Value>): Promise<{ failed: boolean; steps: Record<string, StepResult> }>;
}

/** What a step action does. One per action, in `actions/<name>.ts`, listed in `actions/index.ts`. */
export interface ActionHandler<A extends ActionName = ActionName> {
  /** Does one attempt of the step; resolves with its outputs, rejects when it fails. */
  attempt(run: ActionRun<StepOf<A>>): Promise<Record<string, string>>;
  /**
   * The action runs steps of its own: the workflow's default `timeout` and `retry` are for those,
   * not for it.
   */
  readonly composite?: boolean;
}
