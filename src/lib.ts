/**
 * cilo as a library (`import { createEnv, upEnv, runInEnv, destroyEnv, status, runWorkflow } from
 * "cilo"`; docs/library.md): the operations of the CLI, each taking one options object with the
 * home, environment, working folder and an AbortSignal, and giving the objects of docs/json.md.
 * Errors are thrown as `CiloError` (`code`, `exitCode`, `hint`), as the CLI prints them.
 */
import { resolve } from "node:path";
import type { CiloContext } from "./core/context/context.ts";
import { createEnv as coreCreateEnv } from "./core/env/create-env.ts";
import { destroyEnv as coreDestroyEnv } from "./core/env/destroy-env.ts";
import { destroyView, envStatus, envView, liveEnvView } from "./core/env/env-view.ts";
import type { DestroyView, EnvView, RunResult } from "./core/env/views.ts";
import { runInEnvResult } from "./core/env/run-in-env.ts";
import { upEnv as coreUpEnv } from "./core/env/up-env.ts";
import { readState } from "./core/state/store.ts";
import { makeContext } from "./make-context.ts";
import type { WorkflowEvent } from "./workflow/events.ts";

export { CiloError, isCiloError } from "./core/errors.ts";
export type { DestroyView, EnvView, RunResult, WorkflowEvent };
export type { ServiceView } from "./core/env/views.ts";

/** What every operation takes besides its own options. */
export interface CiloOptions {
  /** `$CILO_HOME` (default: `env.CILO_HOME`, else `~/.cilo`). */
  home?: string;
  /** The environment cilo reads its knobs from and gives child processes (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The default project folder, and what relative paths are resolved against (default `process.cwd()`). */
  cwd?: string;
  /**
   * Aborting stops what can be stopped and throws the abort reason: `createEnv`'s clone or copy (the
   * env is rolled back, nothing is left), the wait of `upEnv`, the command of `runInEnv`, a
   * workflow's steps (its clean-up still runs). `destroyEnv` and `status` check it before they start
   * (a destroy is not stopped half-way).
   */
  signal?: AbortSignal;
}

export interface CreateEnvOptions extends CiloOptions {
  /** The env's name. */
  name: string;
  /** Project folder to copy (default: `cwd`). */
  from?: string;
  /** A git repository to clone instead, at `gitRef`. */
  git?: string;
  gitRef?: string;
  project?: string;
  clone?: "copy" | "reflink" | "worktree";
  include?: string[];
  /** Destroy the env when this process exits (as `cilo create --ephemeral` does for its caller). */
  ephemeral?: boolean;
  sharedNetworks?: string[];
}

export interface EnvRefOptions extends CiloOptions {
  /** `<env>` or `<project>/<env>`. */
  ref: string;
  project?: string;
}

export interface UpEnvOptions extends EnvRefOptions {
  /** Wait until every service runs and is healthy (default true). */
  wait?: boolean;
  /** With `wait`: how long (default 2 minutes). */
  timeoutMs?: number;
  build?: boolean;
  recreate?: boolean;
  profiles?: string[];
}

export interface RunInEnvOptions extends EnvRefOptions {
  /** A shell command line, run in the env's workspace with `CILO_*` set. */
  command: string;
  /** Create the env (from `from`, default `cwd`) when it does not exist (default false). */
  create?: boolean;
  from?: string;
  /** Start the env when it is not running (default true). */
  up?: boolean;
  /** Capture the command's output into the result (default), or hand it this process's stdio. */
  output?: "capture" | "inherit";
}

export interface DestroyEnvOptions extends EnvRefOptions {
  /** Keep the workspace folder. */
  keepWorkspace?: boolean;
  /**
   * As `cilo destroy --force` (the default here): a missing env is `destroyed: false`, and a
   * worktree's or clone's unsaved work is deleted. `false` refuses both.
   */
  force?: boolean;
}

export interface RunWorkflowOptions extends CiloOptions {
  /** The workflow file (relative to `cwd`). */
  file: string;
  vars?: Record<string, string>;
  /** Keep the envs the workflow created. */
  keep?: boolean;
  allowInclude?: string[];
  /** Each event, as `cilo run --json` prints them (schema/cilo.run-event.schema.json). */
  onEvent?: (event: WorkflowEvent) => void;
}

export interface WorkflowRunResult {
  outcome: "success" | "failure" | "cancelled";
  /** 0, 1 (a step failed), 130 (aborted). */
  exitCode: number;
  reason?: string;
  /** Step outputs by step id. */
  outputs: Record<string, Record<string, string>>;
  /** Envs the run left behind (`keep`, or an abandoned clean-up). */
  leftBehind: string[];
}

function contextOf(o: CiloOptions): CiloContext {
  return makeContext({ env: o.env ?? process.env, cwd: resolve(o.cwd ?? process.cwd()), ...(o.home !== undefined ? { home: resolve(o.home) } : {}) });
}

/** Creates an env (as `cilo create`) and gives its env object. */
export async function createEnv(opts: CreateEnvOptions): Promise<EnvView> {
  opts.signal?.throwIfAborted();
  const ctx = contextOf(opts);
  const { env } = await coreCreateEnv(ctx, {
    env: opts.name,
    ...(opts.from !== undefined ? { from: resolve(ctx.cwd, opts.from) } : opts.git === undefined ? { from: ctx.cwd } : {}),
    ...(opts.git !== undefined ? { git: opts.git } : {}),
    ...(opts.gitRef !== undefined ? { ref: opts.gitRef } : {}),
    ...(opts.project !== undefined ? { project: opts.project } : {}),
    ...(opts.clone !== undefined ? { mode: opts.clone } : {}),
    ...(opts.include !== undefined ? { include: opts.include } : {}),
    ...(opts.ephemeral ? { ownerPid: process.pid } : {}),
    ...(opts.sharedNetworks !== undefined ? { sharedNetworks: opts.sharedNetworks } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return envView(ctx, readState(ctx), env);
}

/** Starts an env (as `cilo up --wait`, unless `wait: false`) and gives its env object, read live. */
export async function upEnv(opts: UpEnvOptions): Promise<EnvView> {
  opts.signal?.throwIfAborted();
  const ctx = contextOf(opts);
  const rec = await coreUpEnv(ctx, {
    ref: opts.ref,
    ...(opts.project !== undefined ? { project: opts.project } : {}),
    wait: opts.wait !== false,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    build: !!opts.build,
    recreate: !!opts.recreate,
    profiles: opts.profiles ?? [],
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return liveEnvView(ctx, rec);
}

/** The env object of an env, its services read live from Docker (as `cilo status`). */
export async function status(opts: EnvRefOptions): Promise<EnvView> {
  opts.signal?.throwIfAborted();
  return envStatus(contextOf(opts), opts.ref, opts.project);
}

/**
 * Runs a command in an env's workspace (as `cilo run <command> <env>`), starting the env first
 * unless `up: false`. A command that fails is not an error: see `exit_code`.
 */
export async function runInEnv(opts: RunInEnvOptions): Promise<RunResult> {
  opts.signal?.throwIfAborted();
  const ctx = contextOf(opts);
  return runInEnvResult(ctx, {
    command: opts.command,
    env: opts.ref,
    ...(opts.project !== undefined ? { project: opts.project } : {}),
    ...(opts.from !== undefined ? { from: resolve(ctx.cwd, opts.from) } : {}),
    create: opts.create === true,
    up: opts.up !== false,
    output: opts.output ?? "capture",
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/** Destroys an env (as `cilo destroy --force` unless `force: false`). */
export async function destroyEnv(opts: DestroyEnvOptions): Promise<DestroyView> {
  opts.signal?.throwIfAborted();
  const force = opts.force !== false;
  const rec = await coreDestroyEnv(contextOf(opts), {
    ref: opts.ref,
    ...(opts.project !== undefined ? { project: opts.project } : {}),
    force,
    discardWork: force,
    keepWorkspace: !!opts.keepWorkspace,
  });
  return destroyView(opts.ref, rec, !!opts.keepWorkspace);
}

/** Runs a workflow file (as `cilo run <file>`); aborting interrupts it as Ctrl-C does. A failed workflow is not an error: see `outcome`. */
export async function runWorkflow(opts: RunWorkflowOptions): Promise<WorkflowRunResult> {
  opts.signal?.throwIfAborted();
  const ctx = contextOf(opts);
  const { loadWorkflow } = await import("./workflow/load.ts");
  const { WorkflowRunner } = await import("./workflow/engine.ts");
  const loaded = await loadWorkflow(resolve(ctx.cwd, opts.file), {
    ...(opts.vars ? { vars: opts.vars } : {}),
    ...(opts.allowInclude ? { allowInclude: opts.allowInclude.map((d) => resolve(ctx.cwd, d)) } : {}),
  });
  const runner = new WorkflowRunner(loaded, { ctx, keep: !!opts.keep, onEvent: (e) => opts.onEvent?.(e) });
  const onAbort = () => runner.interrupt("SIGINT");
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const r = await runner.run();
    return { outcome: r.outcome, exitCode: r.exitCode, ...(r.reason !== undefined ? { reason: r.reason } : {}), outputs: r.outputs, leftBehind: r.leftBehind };
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
}
