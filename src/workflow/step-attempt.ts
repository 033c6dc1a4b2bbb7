import { CiloError, messageOf } from "../core/errors.ts";
import { sleep } from "../core/poll.ts";
import { parseDuration } from "./duration.ts";
import { formatDuration } from "./format-duration.ts";
import { StepFailed } from "./host-actions.ts";
import type { Retry } from "./types.ts";

/** How often a step is tried again and how long it waits before each retry. */
export interface RetryPolicy {
  /** Attempts after the first. */
  count: number;
  backoffMs: number;
  /** The pause grows by this factor after each retry. */
  factor: number;
}

export interface AttemptOptions {
  retry: RetryPolicy;
  /** Limit of each attempt. */
  timeoutMs?: number;
  /**
   * Signals that cancel the step: they stop the attempt and the pause before a retry, and the step
   * ends `cancelled` rather than failed.
   */
  cancels: AbortSignal[];
  /**
   * Further signals that stop an attempt (it then fails); asked for at each attempt, since one (the
   * clean-up time) may have started since the last.
   */
  stops: () => AbortSignal[];
  /** Told before the pause that precedes attempt `attempt`. */
  onRetry: (attempt: number, error: string, delayMs: number) => void;
}

export interface AttemptsResult {
  /** The outputs of the last attempt (a failed one's, as far as it wrote them). */
  outputs: Record<string, string>;
  /** Why the last attempt failed; undefined when it succeeded. */
  error?: string;
  attempts: number;
  /** A cancel signal stopped the step. */
  cancelled: boolean;
}

/**
 * Runs `attempt` until it succeeds, the retries are used up or the step is cancelled. Each attempt
 * gets a signal that fires on a cancel or stop signal or when its time limit is up; the error of
 * an aborted attempt is the abort's reason (e.g. `timed out after 2s`).
 */
export async function runAttempts(attempt: (signal: AbortSignal) => Promise<Record<string, string>>, opts: AttemptOptions): Promise<AttemptsResult> {
  const { retry, timeoutMs, cancels } = opts;
  let outputs: Record<string, string> = {};
  let error: string | undefined;
  let attempts = 0;
  let cancelled = false;
  while (error === undefined) {
    attempts++;
    const stops = [...cancels, ...opts.stops()];
    const timer = timeoutMs === undefined ? undefined : timeLimit(timeoutMs);
    const signal = AbortSignal.any(timer ? [...stops, timer.signal] : stops);
    try {
      outputs = await attempt(signal);
      break;
    } catch (e) {
      outputs = e instanceof StepFailed ? e.outputs : {};
      error = signal.aborted ? messageOf(signal.reason) : messageOf(e);
      cancelled = cancels.some((s) => s.aborted);
    } finally {
      timer?.clear();
    }
    if (cancelled || attempts > retry.count) break;
    const delay = retry.backoffMs * retry.factor ** (attempts - 1);
    opts.onRetry(attempts + 1, error, delay);
    try {
      await sleep(delay, AbortSignal.any(cancels));
      error = undefined;
    } catch {
      cancelled = true;
    }
  }
  return { outputs, ...(error !== undefined ? { error } : {}), attempts, cancelled };
}

/** A step's `retry:` as a policy; none means a single attempt. */
export function retryPolicy(retry: Retry | undefined): RetryPolicy {
  if (retry === undefined) return { count: 0, backoffMs: 0, factor: 1 };
  if (typeof retry === "number") return { count: retry, backoffMs: 0, factor: 1 };
  return { count: retry.count, backoffMs: retry.backoff === undefined ? 0 : parseDuration(retry.backoff), factor: retry.factor ?? 1 };
}

/** An abort signal that fires after `ms`, with a "timed out" reason. */
function timeLimit(ms: number): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new CiloError("E_STEP_TIMEOUT", `timed out after ${formatDuration(ms)}`)), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
