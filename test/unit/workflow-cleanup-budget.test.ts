import { setTimeout as delay } from "node:timers/promises";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CleanupBudget, DEFAULT_CLEANUP_MS } from "../../src/workflow/cleanup-budget.ts";

test("without cleanup_timeout the budget is the default", () => {
  assert.is(new CleanupBudget(undefined).ms, DEFAULT_CLEANUP_MS);
  assert.is(new CleanupBudget("2m").ms, 120_000);
});

test("the clock starts once; when it is used up the signal fires and steps are told why", async () => {
  const budget = new CleanupBudget("10ms");
  assert.is(budget.signal, undefined);
  assert.is(budget.usedUp(), undefined);
  budget.start();
  const signal = budget.signal!;
  budget.start();
  assert.is(budget.signal, signal);
  assert.is(budget.usedUp(), undefined);
  await delay(30);
  assert.ok(signal.aborted);
  assert.is((signal.reason as Error).message, "the clean-up time of 10ms is used up");
  assert.is(budget.usedUp(), "the clean-up time of 10ms is used up");
  budget.stop();
});

test.run();
