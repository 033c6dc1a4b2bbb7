// The scheduling of `cilo sync --watch` (src/core/env/watch-loop.ts) with a fake watcher and a fake
// push: what each push covers, and that an edit made while the first push runs is not lost (the
// CI failure of 2026-12-03: the watcher started after the first push printed its line, so an edit
// made in between waited for the next one).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runWatchLoop, type StartWatch, type WatchLoopOptions } from "../../src/core/env/watch-loop.ts";
import { sleep } from "../helpers/until.ts";

interface Bed {
  watch: StartWatch;
  edit: (path: string) => void;
  fail: (e: unknown) => void;
  closed: () => boolean;
  live: () => boolean;
}

function fakeWatcher(): Bed {
  let onChange: ((p: string) => void) | undefined;
  let onError: ((e: unknown) => void) | undefined;
  let closed = false;
  return {
    watch: (c, e) => {
      onChange = c;
      onError = e;
      return {
        close: () => {
          closed = true;
        },
      };
    },
    // An edit nobody watches is lost, as it is on a real file system.
    edit: (p) => {
      if (!closed) onChange?.(p);
    },
    fail: (e) => onError?.(e),
    closed: () => closed,
    live: () => onChange !== undefined && !closed,
  };
}

/** The loop on `bed`'s watcher until `stop` aborts; `opts` as the test needs them. */
function start(bed: Bed, opts: Omit<WatchLoopOptions, "watch" | "signal">): { stop: AbortController; loop: Promise<void> } {
  const stop = new AbortController();
  return { stop, loop: runWatchLoop({ watch: bed.watch, signal: stop.signal, ...opts }) };
}

test("an edit made while the first push runs makes one more push (the watcher is live before it)", async () => {
  const bed = fakeWatcher();
  const pushes: number[] = [];
  const { stop, loop } = start(bed, {
    debounceMs: 20,
    maxWaitMs: 200,
    push: async (n) => {
      pushes.push(n);
      if (pushes.length === 1) {
        await sleep(10);
        bed.edit("web/index.html"); // the agent's edit, right as the first push ends
      }
    },
  });
  for (let i = 0; i < 100 && pushes.length < 2; i++) await sleep(10);
  stop.abort();
  await loop;
  assert.equal(pushes, [0, 1]);
  assert.ok(bed.closed(), "the watcher is closed at the end");
});

test("a burst of edits is one push after the quiet time; cilo's own files do not count", async () => {
  const bed = fakeWatcher();
  const pushes: number[] = [];
  const { stop, loop } = start(bed, {
    debounceMs: 40,
    maxWaitMs: 5000,
    ignored: (p) => p.startsWith(".cilo/"),
    push: async (n) => {
      pushes.push(n);
    },
  });
  while (pushes.length < 1) await sleep(5);
  for (let i = 0; i < 40; i++) bed.edit(`web/burst/f${i}.txt`);
  bed.edit(".cilo/compose.yaml");
  for (let i = 0; i < 100 && pushes.length < 2; i++) await sleep(10);
  await sleep(100);
  stop.abort();
  await loop;
  assert.equal(pushes, [0, 40]);
});

test("a burst that never goes quiet is pushed at least every maxWaitMs", async () => {
  const bed = fakeWatcher();
  const pushes: number[] = [];
  const { stop, loop } = start(bed, {
    debounceMs: 50,
    maxWaitMs: 100,
    push: async (n) => {
      pushes.push(n);
    },
  });
  while (pushes.length < 1) await sleep(5);
  const t0 = Date.now();
  while (Date.now() - t0 < 450) {
    bed.edit("a.txt");
    await sleep(10);
  }
  stop.abort();
  await loop;
  // Edits every 10 ms never leave 50 ms of quiet: without maxWaitMs there would be no push at all.
  assert.ok(pushes.length >= 3, `pushes: ${JSON.stringify(pushes)}`);
});

test("edits during a push make exactly one more push when it ends", async () => {
  const bed = fakeWatcher();
  const pushes: number[] = [];
  const { stop, loop } = start(bed, {
    debounceMs: 10,
    maxWaitMs: 1000,
    push: async (n) => {
      pushes.push(n);
      if (pushes.length === 2) {
        for (let i = 0; i < 5; i++) bed.edit(`during-${i}`);
        await sleep(50);
      }
    },
  });
  while (pushes.length < 1) await sleep(5);
  bed.edit("x");
  for (let i = 0; i < 100 && pushes.length < 3; i++) await sleep(10);
  await sleep(60);
  stop.abort();
  await loop;
  assert.equal(pushes, [0, 1, 5]);
});

test("the first push failing ends the loop with its error and closes the watcher; a watcher error goes to its handler", async () => {
  const bed = fakeWatcher();
  const errors: unknown[] = [];
  const { loop } = start(bed, {
    debounceMs: 10,
    maxWaitMs: 100,
    onWatchError: (e) => errors.push(e),
    push: async () => {
      bed.fail(new Error("ENOENT: a folder went away"));
      throw new Error("host r1 is unreachable");
    },
  });
  let thrown: unknown;
  await loop.catch((e) => {
    thrown = e;
  });
  assert.match(String(thrown), /host r1 is unreachable/);
  assert.ok(bed.closed());
  assert.is(errors.length, 1);
});

test("a later push failing without a handler of its own ends the loop with its error", async () => {
  const bed = fakeWatcher();
  let n = 0;
  const { loop } = start(bed, {
    debounceMs: 5,
    maxWaitMs: 100,
    push: async () => {
      if (n++ > 0) throw new Error("push 2 failed");
    },
  });
  while (n < 1) await sleep(5);
  assert.ok(bed.live());
  bed.edit("x");
  let thrown: unknown;
  await loop.catch((e) => {
    thrown = e;
  });
  assert.match(String(thrown), /push 2 failed/);
  assert.ok(bed.closed());
});

test.run();
