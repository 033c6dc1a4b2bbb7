/**
 * The scheduling of `cilo sync <env> --watch` (sync-env.ts), apart from the file system and the
 * push itself so that its ordering can be tested: the watcher is live before the first push, so
 * an edit made while that push runs (or right after it printed its line) makes one more push
 * instead of waiting for the next edit; a burst of edits is one push after `debounceMs` of quiet,
 * or after `maxWaitMs` since its first edit when it never goes quiet; edits during a push make one
 * more push when it ends.
 */

/** Starts watching; `onChange` is called with the changed path relative to the watched folder ("" when unknown). */
export type StartWatch = (onChange: (path: string) => void, onError: (e: unknown) => void) => { close(): void };

export interface WatchLoopOptions {
  watch: StartWatch;
  /** One push; `changes` is how many change events it covers (0 for the first). One that throws ends the loop with its error (sync-env.ts catches its own when it has a handler). */
  push: (changes: number) => Promise<void>;
  /** A path whose change does not count (cilo's own files under the workspace). */
  ignored?: (path: string) => boolean;
  debounceMs: number;
  maxWaitMs: number;
  signal: AbortSignal;
  /** The watcher failed (a folder vanished while it was being watched, …); watching goes on. */
  onWatchError?: (e: unknown) => void;
}

/** Runs until `signal` aborts; rejects when the first push (or one without an error handler of its own) throws. */
export async function runWatchLoop(opts: WatchLoopOptions): Promise<void> {
  const { debounceMs, maxWaitMs, signal } = opts;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let first = 0;
  let pending = 0;
  let running: Promise<void> | undefined;
  let failed: unknown;
  let abortWait: (() => void) | undefined;
  const drain = async (initial: boolean) => {
    try {
      if (initial) await opts.push(0);
      while (pending > 0 && !signal.aborted) {
        const n = pending;
        pending = 0;
        first = 0;
        if (timer) clearTimeout(timer);
        timer = undefined;
        await opts.push(n);
      }
    } finally {
      running = undefined;
    }
  };
  const fire = () => {
    timer = undefined;
    if (running) return; // the push under way looks at `pending` when it ends
    running = drain(false).catch((e) => {
      failed = e;
      abortWait?.();
    });
  };
  // Live before the first push: what changes while it runs is counted, not lost.
  const watcher = opts.watch(
    (path) => {
      if (opts.ignored?.(path)) return;
      pending++;
      const now = Date.now();
      if (first === 0) first = now;
      if (timer) clearTimeout(timer);
      if (running) return; // the push under way takes it when it ends
      timer = setTimeout(fire, Math.max(0, Math.min(debounceMs, first + maxWaitMs - now)));
    },
    (e) => opts.onWatchError?.(e),
  );
  try {
    running = drain(true);
    await running;
    if (!signal.aborted) {
      await new Promise<void>((resolve) => {
        abortWait = resolve;
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    }
  } finally {
    watcher.close();
    if (timer) clearTimeout(timer);
  }
  await running;
  if (failed !== undefined) throw failed;
}
