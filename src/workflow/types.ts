import type { Duration } from "./duration.ts";

/** The step actions, in the order documentation lists them. A step has exactly one. */
export const ACTIONS = ["clone", "create", "up", "down", "wait", "run", "exec", "destroy", "parallel", "include"] as const;
export type ActionName = (typeof ACTIONS)[number];

/** A workflow file, `cilo.workflow.yaml` (SPEC §7). Strings may hold `${{ }}` expressions. */
export interface Workflow {
  /** File format version; only 1 exists. */
  version: 1;
  /** Shown in progress output; default: the file name. */
  name?: string;
  description?: string;
  /** Named values for `${{ vars.x }}`, evaluated in order; `--var k=v` and an include's `with:` override them. */
  vars?: Record<string, VarValue>;
  /** Extra environment for host commands (`run`), on top of the process environment. */
  env?: Record<string, string>;
  defaults?: StepDefaults;
  /** How long the steps that still run after a failure or an interruption (such as `destroy`) may take together. */
  cleanup_timeout?: Duration;
  steps: Step[];
}

export type VarValue = string | number | boolean;

/** Values steps get when they do not set their own. */
export interface StepDefaults {
  timeout?: Duration;
  retry?: Retry;
  /** Shell for `run` steps. */
  shell?: string;
}

/** `retry: 2` (two more attempts), or attempts with a growing pause. */
export type Retry = number | { count: number; backoff?: Duration; factor?: number };

export interface StepCommon {
  /** Title in progress output; default: derived from the action. */
  name?: string;
  /** For `steps.<id>.outputs` / `.outcome` and `needs`; unique in the file. */
  id?: string;
  /** Condition, with or without `${{ }}`; without a status function it means `success() && …`. */
  if?: string | boolean;
  /** A failure of this step does not fail the workflow. */
  continue_on_error?: boolean;
  timeout?: Duration;
  retry?: Retry;
  /** Extra environment for this step, on top of the workflow's `env`. */
  env?: Record<string, string>;
  /** Working folder for `run`, relative to the workspace (or to the workflow's folder without one). */
  cwd?: string;
  /** Ids of earlier steps that must have run before this one (used inside `parallel`). */
  needs?: string[];
}

export interface CloneAction {
  /** Source folder, relative to the workflow file; default "." (the workflow's folder). */
  from?: string;
  mode?: "copy" | "reflink" | "worktree";
  /** Clone a git repository instead of a folder. */
  git?: string;
  /** Branch, tag or commit of `git`. */
  ref?: string;
  /** Extra files (globs) to copy even when git ignores them. */
  include?: string[];
}

export interface CreateAction {
  /** Env name; default: a name derived from the workflow. */
  env?: string;
  project?: string;
  /** Destroy the env when the workflow ends (unless `--keep`); default true for envs a workflow creates. */
  ephemeral?: boolean;
  /** A snapshot (`cilo snapshot create`) whose volumes the env's start as copies of. */
  seed?: string;
  /** Another env whose volumes the env's start as copies of (snapshotted in the same step). */
  seed_from?: string;
  /** The host (`cilo host add`) the env runs on (`cilo create --on`); default: `host:` of the project config; `local`: this machine. */
  on?: string;
}

export interface UpAction {
  build?: boolean;
  recreate?: boolean;
  profiles?: string[];
  /** Wait for healthchecks before the step ends. */
  wait?: boolean;
  timeout?: Duration;
}

export type DownAction = Record<string, never>;

export interface DestroyAction {
  keep_workspace?: boolean;
}

export interface HttpCheck {
  url: string;
  /** Accepted status codes; default 200–399. */
  status?: number | number[];
  /** Text the body must contain. */
  contains?: string;
}

/** Conditions that must all hold; at least one is required. */
export interface WaitAction {
  /** Compose healthchecks of all services (`true`) or of the listed ones. */
  healthy?: boolean | string[];
  http?: string | HttpCheck;
  /** `host:port` that accepts TCP connections. */
  tcp?: string;
  /** A log line of a service: a substring, or `/regex/`. */
  log?: { service: string; line: string };
  /** A service's container has exited with `code` (default 0). */
  exit?: { service: string; code?: number };
  timeout?: Duration;
  /** Pause between checks. */
  interval?: Duration;
}

export interface ExecAction {
  service: string;
  /** A shell command line, or an argument list run without a shell. */
  command: string | string[];
  user?: string;
  workdir?: string;
}

export type CloneStep = StepCommon & { clone: CloneAction };
export type CreateStep = StepCommon & { create: CreateAction };
export type UpStep = StepCommon & { up: UpAction };
export type DownStep = StepCommon & { down: DownAction };
export type WaitStep = StepCommon & { wait: WaitAction };
/** A host command through a shell (`bash -c` where present, else `sh -c`). */
export type RunStep = StepCommon & { run: string; shell?: string };
export type ExecStep = StepCommon & { exec: ExecAction };
export type DestroyStep = StepCommon & { destroy: DestroyAction };
/** Child steps run concurrently. */
export type ParallelStep = StepCommon & { parallel: Step[] };
/** Runs another workflow file (relative to this one); `with` sets its vars. */
export type IncludeStep = StepCommon & { include: string; with?: Record<string, VarValue> };

export type Step = CloneStep | CreateStep | UpStep | DownStep | WaitStep | RunStep | ExecStep | DestroyStep | ParallelStep | IncludeStep;

/** The action of a (validated) step. */
export function actionOf(step: Step): ActionName {
  const name = ACTIONS.find((a) => Object.hasOwn(step, a));
  if (name === undefined) throw new Error("A step without an action passed validation");
  return name;
}
