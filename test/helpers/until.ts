// Polling in tests: wait for a condition (or a value) instead of sleeping a fixed time.

export interface PollOptions {
  /** Give up after this long (default 20 s). */
  timeoutMs?: number;
  /** Look again after this pause (default 50 ms). */
  stepMs?: number;
}

/**
 * Waits until `probe` holds, looking every `stepMs`; resolves with the milliseconds it took, or
 * throws `<what>: not within <timeoutMs> ms`.
 */
export async function until(what: string, probe: () => boolean | Promise<boolean>, opts: PollOptions = {}): Promise<number> {
  const { timeoutMs = 20_000, stepMs = 50 } = opts;
  const t0 = Date.now();
  while (!(await probe())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
  return Date.now() - t0;
}

/**
 * Reads a value until `want` accepts it or the time is up, and returns the last value read either
 * way, so that the test's own assertion on it says what was wrong.
 */
export async function pollValue<T>(read: () => T | Promise<T>, want: (v: T) => boolean, opts: PollOptions = {}): Promise<T> {
  const { timeoutMs = 20_000, stepMs = 50 } = opts;
  const end = Date.now() + timeoutMs;
  let v = await read();
  while (!want(v) && Date.now() < end) {
    await sleep(stepMs);
    v = await read();
  }
  return v;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Whether a process with this pid exists (a zombie counts). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
