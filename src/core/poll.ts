import { CiloError } from "./errors.ts";

/** What one check of a condition found: ready, not yet (why), or never (fatal: stop waiting). */
export type Readiness = { ready: true } | { ready: false; why: string; fatal: boolean };

export interface PollOptions {
  /** When to give up (epoch ms); `Infinity` waits until the check fails for good or the signal aborts. */
  deadline: number;
  /** The pause after a check that was not ready (the first check runs at once). */
  intervalMs: number;
  /** Each pause is this many times the one before (default 1: a fixed interval)… */
  backoff?: number;
  /** …up to this pause (default: no limit). */
  maxIntervalMs?: number;
  /** Ends the wait, during a check or a pause, with `interrupted()` or else the signal's reason. */
  signal?: AbortSignal;
  /** The error when the signal aborts (default: the signal's reason). */
  interrupted?: () => Error;
  /** The error when a check says it can never be ready (default: E_WAIT_FAILED with its reason). */
  failed?: (why: string) => Error;
  /** The error when the deadline has passed; `last` is the reason the last check gave. */
  timedOut?: (last: string) => Error;
  /** `last` before any check gave a reason (default "not checked yet"). */
  initially?: string;
}

/**
 * Checks until the check says ready, then returns; the one polling loop of cilo (`cilo up --wait`,
 * shared services, workflow `wait:` steps). A check that says fatal, the deadline passing or the
 * signal aborting ends it with the error the caller chose; an error the check throws ends it too.
 */
export async function pollUntil(check: (signal: AbortSignal) => Promise<Readiness>, opts: PollOptions): Promise<void> {
  const signal = opts.signal ?? new AbortController().signal;
  const interrupted = () => (opts.interrupted ? opts.interrupted() : signal.reason);
  let last = opts.initially ?? "not checked yet";
  let pause = opts.intervalMs;
  for (;;) {
    if (signal.aborted) throw interrupted();
    const r = await check(signal);
    if (r.ready) return;
    if (r.fatal) throw opts.failed ? opts.failed(r.why) : new CiloError("E_WAIT_FAILED", r.why);
    last = r.why || last;
    const left = opts.deadline - Date.now();
    if (left <= 0) throw opts.timedOut ? opts.timedOut(last) : new CiloError("E_WAIT_TIMEOUT", `Timed out (last: ${last})`);
    await sleep(Math.min(pause, left), signal).catch(() => {
      throw interrupted();
    });
    pause = Math.min(pause * (opts.backoff ?? 1), opts.maxIntervalMs ?? Number.POSITIVE_INFINITY);
  }
}

/** Waits `ms`, or less when the signal aborts (then it throws the abort reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
