import { CiloError } from "../../core/errors.ts";
import type { Readiness } from "../../core/runtime/wait-services.ts";

/** What a wait strategy is given: until when, how often, and a signal that ends the wait early. */
export interface WaitBudget {
  deadline: number;
  intervalMs: number;
  signal: AbortSignal;
}

/** One condition of a `wait` step (SPEC §7), like testcontainers' wait strategies. */
export interface WaitStrategy {
  /** What is awaited, for messages: `http://web.x.test/ answers 200-399`. */
  readonly label: string;
  /** Resolves once the condition holds; rejects when it cannot hold any more or the budget is used up. */
  waitUntilReady(budget: WaitBudget): Promise<void>;
}

/** A strategy that checks once per interval until the check says ready (or fails for good). */
export function pollingStrategy(label: string, check: (signal: AbortSignal) => Promise<Readiness>): WaitStrategy {
  return {
    label,
    async waitUntilReady({ deadline, intervalMs, signal }) {
      let last = "not checked yet";
      for (;;) {
        signal.throwIfAborted();
        const r = await check(signal).catch((e: unknown): Readiness => ({ ready: false, why: (e as Error).message, fatal: false }));
        if (r.ready) return;
        if (r.fatal) throw new CiloError("E_WAIT_FAILED", `${label}: ${r.why}`);
        last = r.why;
        if (Date.now() >= deadline) throw new CiloError("E_WAIT_TIMEOUT", `Timed out waiting until ${label} (last: ${last})`);
        await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())), signal);
      }
    },
  };
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
