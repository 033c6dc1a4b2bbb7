import { CiloError } from "../../core/errors.ts";
import { pollUntil, type Readiness } from "../../core/poll.ts";

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

/**
 * A strategy that checks once per interval until the check says ready (or fails for good), through
 * core's one polling loop. An error the check throws counts as "not ready yet", with its message.
 */
export function pollingStrategy(label: string, check: (signal: AbortSignal) => Promise<Readiness>): WaitStrategy {
  return {
    label,
    async waitUntilReady({ deadline, intervalMs, signal }) {
      await pollUntil((s) => check(s).catch((e: unknown): Readiness => ({ ready: false, why: (e as Error).message, fatal: false })), {
        deadline,
        intervalMs,
        signal,
        failed: (why) => new CiloError("E_WAIT_FAILED", `${label}: ${why}`),
        timedOut: (last) => new CiloError("E_WAIT_TIMEOUT", `Timed out waiting until ${label} (last: ${last})`),
      });
    },
  };
}
