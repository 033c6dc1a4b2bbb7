import { setTimeout as sleep } from "node:timers/promises";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TaskPool } from "../../src/core/workspace/task-pool.ts";

test("runs every task, never more than the limit at once, including tasks added by tasks", async () => {
  const pool = new TaskPool(3);
  let running = 0;
  let peak = 0;
  const done: number[] = [];
  const task = (n: number) => async () => {
    running++;
    peak = Math.max(peak, running);
    await sleep(2);
    if (n < 5) pool.add(task(n + 10));
    running--;
    done.push(n);
  };
  for (let n = 0; n < 10; n++) pool.add(task(n));
  await pool.drained();
  assert.is(peak, 3);
  assert.is(done.length, 15);
  assert.equal(
    [...done].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
  );
});

test("urgent tasks start before the others", async () => {
  const pool = new TaskPool(1);
  const order: string[] = [];
  let open = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  pool.add(() => gate);
  pool.add(async () => void order.push("normal"));
  pool.add(async () => void order.push("urgent"), true);
  open();
  await pool.drained();
  assert.equal(order, ["urgent", "normal"]);
});

test("the first failure stops further starts and rejects drained() after running tasks settle", async () => {
  const pool = new TaskPool(2);
  let slowFinished = false;
  let laterStarted = false;
  pool.add(async () => {
    await sleep(20);
    slowFinished = true;
  });
  pool.add(async () => {
    throw new Error("boom");
  });
  for (let i = 0; i < 5; i++)
    pool.add(async () => {
      laterStarted = true;
    });
  try {
    await pool.drained();
    assert.unreachable("drained() resolved");
  } catch (e) {
    assert.is((e as Error).message, "boom");
  }
  assert.ok(slowFinished, "drained() waited for the running task");
  assert.not.ok(laterStarted, "no task started after the failure");
});

test("an abort stops further starts and rejects with the signal's reason", async () => {
  const ac = new AbortController();
  const pool = new TaskPool(1, ac.signal);
  let started = 0;
  for (let i = 0; i < 10; i++) {
    pool.add(async () => {
      started++;
      if (started === 2) ac.abort(new Error("stop"));
      await sleep(1);
    });
  }
  await pool.drained().then(
    () => assert.unreachable("drained() resolved"),
    (e: Error) => assert.is(e.message, "stop"),
  );
  assert.is(started, 2);
});

test("an idle pool is drained at once; a bad limit is refused", async () => {
  await new TaskPool(4).drained();
  assert.throws(() => new TaskPool(0), /positive whole limit/);
});

test.run();
