import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CiloError, ExitCode, messageOf } from "../core/errors.ts";
import type { StateConfig } from "../core/state/schema.ts";
import type { CiloContext as CoreContext } from "../core/context/context.ts";
import { readState } from "../core/state/store.ts";
import { handlerOf, type NestedSteps } from "./actions/index.ts";
import { CleanupBudget } from "./cleanup-budget.ts";
import { parseDuration } from "./duration.ts";
import type { EventSink, RunOutcome, StepSummary, WorkflowEvent } from "./events.ts";
import type { ExpressionContext, StepOutcome, StepResult } from "./expression/context.ts";
import type { Value } from "./expression/values.ts";
import { lineBuffer, outputsPath } from "./host-actions.ts";
import { conditionNeedsImplicitSuccess, evaluateCondition, interpolateDeep, resolveVars } from "./interpolate.ts";
import { parseCondition } from "./expression/template.ts";
import type { LoadedWorkflow } from "./load.ts";
import { planWorkflow, stepTitle } from "./plan.ts";
import { envLabel, RunEnvs, type RunEnv } from "./run-envs.ts";
import { signalGroup } from "./shell-command.ts";
import { retryPolicy, runAttempts } from "./step-attempt.ts";
import { stringValues } from "./string-values.ts";
import { actionOf, type ActionName, type Step } from "./types.ts";

export interface WorkflowRunOptions {
  /**
   * `--keep`: every env the run created is kept (none is destroyed automatically), and when the
   * run fails or is interrupted its `destroy` steps are skipped, so the env can be looked into.
   */
  keep?: boolean;
  onEvent: EventSink;
  /** The context of the run: home, container runtime, compose; every env operation gets it. */
  ctx: CoreContext;
  /** The environment host commands start from and `env.*` reads (default: the context's). */
  processEnv?: Record<string, string | undefined>;
}

export interface WorkflowResult {
  outcome: RunOutcome;
  /** 0, 1 (a step failed), 130 / 143 (interrupted by SIGINT / SIGTERM). */
  exitCode: number;
  /** What ended the run: the first step that failed it, or the interruption. */
  reason?: string;
  outputs: Record<string, Record<string, string>>;
  leftBehind: string[];
  /** A second signal ended the run at once, without clean-up. */
  abandoned: boolean;
}

/** Whether a group of steps (the run, a `parallel`, an `include`) has a failed step, seen from inside. */
class GroupStatus {
  failed = false;
  constructor(readonly parent?: GroupStatus) {}

  get anyFailed(): boolean {
    return this.failed || (this.parent?.anyFailed ?? false);
  }
}

/** One workflow file being run: its vars, env, and the results of its steps by id. */
interface Scope {
  loaded: LoadedWorkflow;
  vars: Record<string, Value>;
  /** The workflow's `env:` over its includer's (not the process environment). */
  env: Record<string, string>;
  steps: Record<string, StepResult>;
  /** Ends of steps by id, for `needs`. */
  finished: Map<string, Deferred>;
  status: GroupStatus;
}

/** One attempt of a step. */
interface Attempt {
  path: string;
  ctx: ExpressionContext;
  /** The step's own `env:`, interpolated. */
  stepEnv: Record<string, string>;
  signal: AbortSignal;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

/**
 * Runs a loaded workflow (SPEC §7) and reports everything as {@link WorkflowEvent}s. Steps run in
 * order; the first failing step fails the run and later steps are skipped unless their `if:`
 * selects `always()` / `failure()`. {@link interrupt} stops the running step (its whole process
 * tree) and runs the clean-up steps within `cleanup_timeout`; a second call stops at once. Envs
 * the run created are destroyed at the end unless `ephemeral: false` or `--keep`.
 */
export class WorkflowRunner {
  private readonly envs: RunEnvs;
  private readonly processEnv: Record<string, string | undefined>;
  private readonly cancel = new AbortController();
  private readonly hardStop = new AbortController();
  private readonly rootStatus = new GroupStatus();
  private readonly summaries: StepSummary[] = [];
  private readonly groups = new Set<number>();
  private readonly startedAt = Date.now();
  private readonly cleanup: CleanupBudget;
  private interruptedBy: "SIGINT" | "SIGTERM" | undefined;
  private firstFailure: string | undefined;
  private root: Scope | undefined;
  private outputsDir: string | undefined;
  /** The last output lines of each running step, by path (see LOG_TAIL_LINES). */
  private readonly tails = new Map<string, string[]>();
  private outputsCount = 0;
  private result: WorkflowResult | undefined;
  private abandoned: ((r: WorkflowResult) => void) | undefined;

  constructor(
    private readonly loaded: LoadedWorkflow,
    private readonly opts: WorkflowRunOptions,
  ) {
    this.processEnv = opts.processEnv ?? opts.ctx.env;
    this.envs = new RunEnvs(opts.ctx, loaded.name, stateConfig(opts.ctx));
    this.cleanup = new CleanupBudget(loaded.workflow.cleanup_timeout);
  }

  /** Runs the workflow; resolves when it has ended (or at once after a second interruption). */
  run(): Promise<WorkflowResult> {
    const abandoned = new Promise<WorkflowResult>((r) => {
      this.abandoned = r;
    });
    return Promise.race([this.execute(), abandoned]);
  }

  /**
   * First call: stop the running steps and go on with the clean-up steps (`always()`,
   * `cancelled()`) within the clean-up time. Second call: stop everything at once and end the run,
   * reporting what is left behind.
   */
  interrupt(signal: "SIGINT" | "SIGTERM"): void {
    if (this.result) return;
    if (this.interruptedBy) {
      this.abandon();
      return;
    }
    this.interruptedBy = signal;
    this.cleanup.start();
    this.notice(`Interrupted by ${signal}: stopping the running step, then running the clean-up steps (interrupt again to stop at once)`);
    this.cancel.abort(new CiloError("E_INTERRUPTED", `interrupted by ${signal}`, { exitCode: exitCodeOf(signal) }));
  }

  private abandon(): void {
    this.hardStop.abort(new CiloError("E_INTERRUPTED", "stopped at once by a second interruption"));
    for (const pgid of this.groups) signalGroup(pgid, "SIGKILL");
    this.notice("Stopped at once by a second interruption; the clean-up steps did not run");
    this.abandoned?.(this.finish(true));
  }

  private async execute(): Promise<WorkflowResult> {
    this.emit({ type: "workflow_start", name: this.loaded.name, file: this.loaded.file, steps: planWorkflow(this.loaded) });
    this.outputsDir = mkdtempSync(join(tmpdir(), "cilo-run-"));
    try {
      this.root = this.scopeFor(this.loaded, this.loaded.varOverrides, {}, this.rootStatus);
      await this.runSteps(this.root, this.loaded.workflow.steps, "");
      this.endLeftoverProcesses();
      await this.cleanUpEnvs();
    } catch (e) {
      this.rootStatus.failed = true;
      this.firstFailure ??= messageOf(e);
    } finally {
      rmSync(this.outputsDir, { recursive: true, force: true });
      this.endLeftoverProcesses();
    }
    return this.finish(false);
  }

  private async runSteps(scope: Scope, steps: Step[], prefix: string, parentSignal?: AbortSignal): Promise<void> {
    for (const [i, step] of steps.entries()) await this.runStep(scope, step, `${prefix}${i + 1}`, parentSignal);
  }

  private async runStep(scope: Scope, step: Step, path: string, parentSignal?: AbortSignal): Promise<void> {
    const done = step.id ? deferredOf(scope, step.id) : undefined;
    try {
      if (step.needs) await Promise.all(step.needs.map((id) => deferredOf(scope, id).promise));
      await this.runStepBody(scope, step, path, parentSignal);
    } finally {
      done?.resolve();
    }
  }

  private async runStepBody(scope: Scope, step: Step, path: string, parentSignal?: AbortSignal): Promise<void> {
    const action = actionOf(step);
    const base = { path, action, ...(step.id ? { id: step.id } : {}) };
    // As written in the file, never interpolated: `run: deploy --token ${{ env.TOKEN }}` must not
    // put the token into logs, NDJSON and JUnit reports.
    const title = stepTitle(step);
    let ctx = this.context(scope);
    let skip: string | undefined;
    try {
      skip = this.skipReason(scope, step, action, ctx);
    } catch (e) {
      this.endStep(scope, step, { ...base, title, outcome: "failure", duration_ms: 0, attempts: 0, error: `if: ${messageOf(e)}` }, {});
      return;
    }
    if (skip !== undefined) {
      this.endStep(scope, step, { ...base, title, outcome: "skipped", duration_ms: 0, attempts: 0, reason: skip }, {});
      return;
    }
    const startedAt = Date.now();
    const afterInterrupt = this.interruptedBy !== undefined;
    let stepEnv: Record<string, string> = {};
    let error: string | undefined;
    try {
      stepEnv = step.env ? interpolateDeep(step.env, ctx) : {};
      ctx = { ...ctx, env: { ...ctx.env, ...stepEnv } };
    } catch (e) {
      error = messageOf(e);
    }
    this.emit({ type: "step_start", ...base, title });
    const handler = handlerOf(action);
    const defaults = scope.loaded.workflow.defaults;
    const retry = retryPolicy(step.retry ?? (handler.composite ? undefined : defaults?.retry));
    const timeout = step.timeout ?? (handler.composite ? undefined : defaults?.timeout);
    let outputs: Record<string, string> = {};
    let attempts = 0;
    let cancelled = false;
    if (error === undefined) {
      const cancels = [this.hardStop.signal, ...(afterInterrupt ? [] : [this.cancel.signal])];
      const result = await runAttempts((signal) => this.perform(scope, step, action, { path, ctx, stepEnv, signal }), {
        retry,
        ...(timeout === undefined ? {} : { timeoutMs: parseDuration(timeout) }),
        cancels,
        stops: () => [...(this.cleanup.signal ? [this.cleanup.signal] : []), ...(parentSignal ? [parentSignal] : [])],
        onRetry: (attempt, err, delay) => this.emit({ type: "step_retry", path, attempt, error: err, delay_ms: delay }),
      });
      ({ outputs, error, attempts, cancelled } = result);
    }
    const outcome: StepOutcome = error === undefined ? "success" : cancelled ? "cancelled" : "failure";
    const summary = { ...base, title, outcome, duration_ms: Date.now() - startedAt, attempts, ...(error !== undefined ? { error } : {}) };
    this.endStep(scope, step, summary, outputs);
  }

  /** Records a step's result (for `steps.<id>`, the status of its group and the summary) and reports it. */
  private endStep(scope: Scope, step: Step, summary: StepSummary & { attempts: number }, outputs: Record<string, string>): void {
    if (step.id) scope.steps[step.id] = { outputs, outcome: summary.outcome };
    if (summary.outcome === "failure" && !step.continue_on_error) {
      scope.status.failed = true;
      this.firstFailure ??= `step ${summary.path} "${summary.title}" failed: ${(summary.error ?? "").split("\n")[0]}`;
      this.cleanup.start();
    }
    const tail = summary.outcome === "failure" ? this.tails.get(summary.path) : undefined;
    this.tails.delete(summary.path);
    const { attempts, ...rest } = { ...summary, ...(tail && tail.length > 0 ? { log_tail: tail } : {}) };
    this.summaries.push(rest);
    this.emit({ type: "step_end", ...rest, attempts, ...(Object.keys(outputs).length > 0 ? { outputs } : {}) });
  }

  private skipReason(scope: Scope, step: Step, action: ActionName, ctx: ExpressionContext): string | undefined {
    if (this.result) return "the run has ended";
    const usedUp = this.cleanup.usedUp();
    if (usedUp !== undefined) return usedUp;
    if (!evaluateCondition(step.if, ctx)) {
      const badRun = scope.status.anyFailed || this.interruptedBy !== undefined;
      if (step.if === undefined || (badRun && !mentionsStatus(step.if))) return this.interruptedBy ? "the run was interrupted" : "an earlier step failed";
      return `its condition is false: ${String(step.if)}`;
    }
    if (action === "destroy" && this.opts.keep && (this.rootStatus.anyFailed || this.interruptedBy)) return "--keep keeps the env of a failed run";
    return undefined;
  }

  /** Does what one attempt of a step does, through its action's handler; returns its outputs. */
  private async perform(scope: Scope, step: Step, action: ActionName, at: Attempt): Promise<Record<string, string>> {
    const { path, ctx, signal } = at;
    const lines = lineBuffer((line, stream) => this.emit({ type: "step_output", path, stream, line }));
    const progress = lineBuffer((line, stream) => this.emit({ type: "step_output", path, stream, line, progress: true }), true);
    try {
      return await handlerOf(action).attempt({
        step,
        workflow: scope.loaded,
        ctx,
        signal,
        envs: this.envs,
        output: (chunk, stream) => lines.write(chunk, stream),
        progress: (chunk) => progress.write(chunk),
        outputsFile: () => outputsPath(this.outputsDir!, ++this.outputsCount),
        onProcessGroup: (pgid) => this.groups.add(pgid),
        nested: this.nested(scope, at),
      });
    } finally {
      lines.flush();
      progress.flush();
      this.forgetEndedProcesses();
    }
  }

  /** How a `parallel` or `include` step runs its steps: numbered under its path, stopped by its signal. */
  private nested(scope: Scope, { path, stepEnv, signal }: Attempt): NestedSteps {
    return {
      runGroup: async (steps) => {
        const group: Scope = { ...scope, status: new GroupStatus(scope.status) };
        await Promise.all(steps.map((child, i) => this.runStep(group, child, `${path}.${i + 1}`, signal)));
        return { failed: group.status.failed };
      },
      runWorkflow: async (workflow, vars) => {
        const inner = this.scopeFor(workflow, vars, { ...scope.env, ...stepEnv }, new GroupStatus(scope.status));
        await this.runSteps(inner, workflow.workflow.steps, `${path}.`, signal);
        return { failed: inner.status.failed, steps: inner.steps };
      },
    };
  }

  private scopeFor(loaded: LoadedWorkflow, overrides: Record<string, Value>, parentEnv: Record<string, string>, status: GroupStatus): Scope {
    const env = { ...this.processEnv, ...parentEnv };
    const cilo = this.envs.context();
    const vars = resolveVars(loaded.workflow.vars ?? {}, { env, cilo }, overrides);
    const own = interpolateDeep(loaded.workflow.env ?? {}, { vars, env, cilo });
    return { loaded, vars, env: { ...parentEnv, ...own }, steps: {}, finished: new Map(), status };
  }

  private context(scope: Scope): ExpressionContext {
    return {
      vars: scope.vars,
      env: { ...this.processEnv, ...scope.env },
      cilo: this.envs.context(),
      steps: scope.steps,
      status: { failed: scope.status.anyFailed, cancelled: this.interruptedBy !== undefined },
    };
  }

  /** Destroys, at the end, the envs the run created that are still there (unless `ephemeral: false` or `--keep`). */
  private async cleanUpEnvs(): Promise<void> {
    let n = 0;
    for (const entry of this.envs.remaining()) {
      if (this.result) return;
      if (entry.state !== "present") continue;
      if (this.opts.keep || !entry.ephemeral) {
        if (this.opts.keep && entry.ephemeral) await this.envs.keep(entry).catch((e) => this.notice(`Could not keep ${envLabel(entry)}: ${messageOf(e)}`));
        this.notice(keptNotice(entry, this.opts.keep === true));
        continue;
      }
      if (this.cleanup.usedUp() !== undefined) continue;
      const path = `cleanup.${++n}`;
      const title = `destroy ${envLabel(entry)} (created by this run)`;
      const started = Date.now();
      this.emit({ type: "step_start", path, title, action: "destroy" });
      const lines = lineBuffer((line, stream) => this.emit({ type: "step_output", path, stream, line, progress: true }), true);
      let error: string | undefined;
      try {
        await this.envs.destroyEntry(entry, (c) => lines.write(c));
      } catch (e) {
        error = messageOf(e);
      }
      lines.flush();
      const summary: StepSummary = {
        path,
        title,
        action: "destroy",
        outcome: error ? "failure" : "success",
        duration_ms: Date.now() - started,
        ...(error ? { error } : {}),
      };
      if (error) {
        this.rootStatus.failed = true;
        this.firstFailure ??= `${title} failed: ${error.split("\n")[0]}`;
      }
      this.summaries.push(summary);
      this.emit({ type: "step_end", ...summary, attempts: 1 });
    }
  }

  private finish(abandoned: boolean): WorkflowResult {
    if (this.result) return this.result;
    this.cleanup.stop();
    const leftBehind = this.envs
      .remaining()
      .filter((e) => e.state === "creating" || (e.ephemeral && (!this.opts.keep || abandoned)))
      .map((e) => `env ${envLabel(e)}: remove it with cilo destroy ${envLabel(e)} --force`);
    if (leftBehind.length > 0) this.notice(`Left behind:\n${leftBehind.map((l) => `  ${l}`).join("\n")}`);
    this.summaries.sort((a, b) => comparePaths(a.path, b.path));
    const outcome: RunOutcome = this.interruptedBy ? "cancelled" : this.rootStatus.failed ? "failure" : "success";
    const exitCode = this.interruptedBy ? exitCodeOf(this.interruptedBy) : outcome === "failure" ? ExitCode.failure : ExitCode.ok;
    const outputs = Object.fromEntries(
      Object.entries(this.root?.steps ?? {})
        .map(([id, r]) => [id, stringValues(r.outputs)] as const)
        .filter(([, o]) => Object.keys(o).length > 0),
    );
    const reason = this.interruptedBy ? `interrupted by ${this.interruptedBy}` : this.firstFailure;
    this.emit({
      type: "workflow_end",
      name: this.loaded.name,
      outcome,
      exit_code: exitCode,
      duration_ms: Date.now() - this.startedAt,
      steps: this.summaries,
      outputs,
      left_behind: leftBehind,
    });
    this.result = { outcome, exitCode, ...(outcome !== "success" && reason ? { reason } : {}), outputs, leftBehind, abandoned };
    return this.result;
  }

  /** Drops process groups that have ended, so only leftovers (background processes) are remembered. */
  private forgetEndedProcesses(): void {
    for (const pgid of this.groups) if (!signalGroup(pgid, 0)) this.groups.delete(pgid);
  }

  /** Processes `run` steps left in the background end with the run. */
  private endLeftoverProcesses(): void {
    for (const pgid of this.groups) signalGroup(pgid, "SIGTERM");
    this.groups.clear();
  }

  private notice(message: string): void {
    this.emit({ type: "notice", message });
  }

  private emit(event: DistributiveOmit<WorkflowEvent, "ts">): void {
    if (this.result) return;
    if (event.type === "step_output") {
      const tail = this.tails.get(event.path) ?? [];
      tail.push(event.line);
      if (tail.length > LOG_TAIL_LINES) tail.shift();
      this.tails.set(event.path, tail);
    }
    const { type, ...rest } = event;
    this.opts.onEvent({ type, ts: new Date().toISOString(), ...rest } as WorkflowEvent);
  }
}

/** How many of a failed step's last output lines its `step_end` and the summary carry. */
export const LOG_TAIL_LINES = 30;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function keptNotice(entry: RunEnv, keep: boolean): string {
  const env = envLabel(entry);
  return [
    `${keep ? "Kept" : "Left running"} env ${env}${keep ? " (--keep)" : " (ephemeral: false)"}; to get into it:`,
    `  cilo status ${env}`,
    `  cilo exec ${env} <service> sh`,
    `  cd "$(cilo path ${env})"`,
    `  cilo destroy ${env} --force   # when you are done`,
  ].join("\n");
}

function exitCodeOf(signal: "SIGINT" | "SIGTERM"): number {
  return signal === "SIGINT" ? ExitCode.interrupted : ExitCode.terminated;
}

/** Document order: `2` < `2.1` < `2.10` < `3` < `cleanup.1`. */
function comparePaths(a: string, b: string): number {
  const pa = a.split(".");
  const pb = b.split(".");
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (pa[i] === undefined) return -1;
    if (pb[i] === undefined) return 1;
    const na = Number(pa[i]);
    const nb = Number(pb[i]);
    if (pa[i] !== pb[i]) return Number.isNaN(na) || Number.isNaN(nb) ? (Number.isNaN(na) ? 1 : -1) : na - nb;
  }
  return 0;
}

function deferredOf(scope: Scope, id: string): Deferred {
  let d = scope.finished.get(id);
  if (!d) {
    let resolveIt!: () => void;
    const promise = new Promise<void>((r) => {
      resolveIt = r;
    });
    d = { promise, resolve: resolveIt };
    scope.finished.set(id, d);
  }
  return d;
}

/** Whether a condition calls a status function (then a failed run does not skip it by itself). */
function mentionsStatus(condition: string | boolean): boolean {
  return typeof condition === "string" && !conditionNeedsImplicitSuccess(parseCondition(condition));
}

/** The machine's cilo settings; undefined before `cilo init` (host-only workflows need none). */
function stateConfig(ctx: CoreContext): StateConfig | undefined {
  try {
    return readState(ctx).config;
  } catch (e) {
    if (e instanceof CiloError && e.code === "E_NOT_INITIALISED") return undefined;
    throw e;
  }
}
