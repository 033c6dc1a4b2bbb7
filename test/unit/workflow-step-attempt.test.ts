import { test } from "uvu";
import * as assert from "uvu/assert";
import { StepFailed } from "../../src/workflow/host-actions.ts";
import { retryPolicy, runAttempts, type AttemptOptions } from "../../src/workflow/step-attempt.ts";

function options(over: Partial<AttemptOptions> = {}): AttemptOptions & { retries: [number, string, number][] } {
  const retries: [number, string, number][] = [];
  return { retry: retryPolicy(undefined), cancels: [], stops: () => [], onRetry: (a, e, d) => retries.push([a, e, d]), retries, ...over };
}

test("retry policy: none, a count, a growing backoff", () => {
  assert.equal(retryPolicy(undefined), { count: 0, backoffMs: 0, factor: 1 });
  assert.equal(retryPolicy(2), { count: 2, backoffMs: 0, factor: 1 });
  assert.equal(retryPolicy({ count: 3, backoff: "10ms", factor: 2 }), { count: 3, backoffMs: 10, factor: 2 });
});

test("retries until an attempt succeeds, with the backoff growing by the factor", async () => {
  const opts = options({ retry: { count: 3, backoffMs: 2, factor: 3 } });
  let n = 0;
  const r = await runAttempts(async () => {
    if (++n < 3) throw new Error(`try ${n}`);
    return { ok: "1" };
  }, opts);
  assert.equal(r, { outputs: { ok: "1" }, attempts: 3, cancelled: false });
  assert.equal(opts.retries, [
    [2, "try 1", 2],
    [3, "try 2", 6],
  ]);
});

test("the last failure is the step's error, with the outputs it wrote", async () => {
  const r = await runAttempts(
    async () => {
      throw new StepFailed("exited with code 1", { half: "done" });
    },
    options({ retry: retryPolicy(1) }),
  );
  assert.equal(r, { outputs: { half: "done" }, error: "exited with code 1", attempts: 2, cancelled: false });
});

test("an attempt over its time limit fails with the timeout as its error", async () => {
  const r = await runAttempts(
    (signal) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")))),
    options({ timeoutMs: 20 }),
  );
  assert.is(r.error, "timed out after 20ms");
  assert.is(r.cancelled, false);
});

test("a cancel signal ends the step cancelled, without further retries", async () => {
  const cancel = new AbortController();
  const opts = options({ retry: retryPolicy(5), cancels: [cancel.signal] });
  const r = await runAttempts((signal) => {
    setTimeout(() => cancel.abort(new Error("interrupted by SIGINT")), 5);
    return new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted"))));
  }, opts);
  assert.equal(r, { outputs: {}, error: "interrupted by SIGINT", attempts: 1, cancelled: true });
  assert.equal(opts.retries, []);
});

test.run();
