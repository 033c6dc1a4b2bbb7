import { CiloError } from "../core/errors.ts";
import { type Duration, parseDuration } from "./duration.ts";
import { formatDuration } from "./format-duration.ts";

/** `cleanup_timeout` when the workflow sets none. */
export const DEFAULT_CLEANUP_MS = 60_000;

/**
 * The time the steps that still run after a failure or an interruption (SPEC §7 `cleanup_timeout`)
 * have together. It starts at the first failure or interruption; once used up, the steps still
 * running are stopped and later ones are skipped.
 */
export class CleanupBudget {
  private running: { deadline: number; controller: AbortController; timer: NodeJS.Timeout } | undefined;

  constructor(private readonly timeout: Duration | undefined) {}

  /** How long the clean-up may take. */
  get ms(): number {
    return this.timeout === undefined ? DEFAULT_CLEANUP_MS : parseDuration(this.timeout);
  }

  /** Starts the clock; later calls do nothing. */
  start(): void {
    if (this.running) return;
    const controller = new AbortController();
    const ms = this.ms;
    const timer = setTimeout(() => controller.abort(new CiloError("E_CLEANUP_TIMEOUT", `the clean-up time of ${formatDuration(ms)} is used up`)), ms);
    timer.unref();
    this.running = { deadline: Date.now() + ms, controller, timer };
  }

  /** Aborts when the time is used up; undefined until the clock has started. */
  get signal(): AbortSignal | undefined {
    return this.running?.controller.signal;
  }

  /** Why a step is not run any more, once the time is used up. */
  usedUp(): string | undefined {
    if (this.running && Date.now() >= this.running.deadline) return `the clean-up time of ${formatDuration(this.ms)} is used up`;
    return undefined;
  }

  /** Stops the clock at the end of the run. */
  stop(): void {
    if (this.running) clearTimeout(this.running.timer);
  }
}
