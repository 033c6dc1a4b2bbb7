// Live progress on a terminal: one line redrawn in place, throttled. Core reports numbers through
// callbacks (e.g. `onCopyProgress`); this is where they become text.

/** A byte count the way a person reads it: `0 B`, `950 B`, `12.3 kB`, `1.2 GB` (powers of 1000). */
export function formatBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** `12,345 files, 1.2 GB` and, once some time has passed, ` (150 MB/s)`. */
function copyFigures(p: { files: number; bytes: number }, elapsedMs: number): { what: string; rate: string } {
  return {
    what: `${p.files.toLocaleString("en-US")} ${p.files === 1 ? "file" : "files"}, ${formatBytes(p.bytes)}`,
    rate: elapsedMs >= 100 ? ` (${formatBytes((p.bytes * 1000) / elapsedMs)}/s)` : "",
  };
}

/** `Copying the workspace: 12,345 files, 1.2 GB (150 MB/s)`. */
export function formatCopyProgress(p: { files: number; bytes: number }, elapsedMs: number): string {
  const { what, rate } = copyFigures(p, elapsedMs);
  return `Copying the workspace: ${what}${rate}`;
}

/** The copy's closing line: `Copied 12,345 files, 1.2 GB in 3.4 s (350 MB/s)`. */
export function formatCopyDone(p: { files: number; bytes: number }, elapsedMs: number): string {
  const { what, rate } = copyFigures(p, elapsedMs);
  return `Copied ${what} in ${(elapsedMs / 1000).toFixed(1)} s${rate}`;
}

export interface LiveLineOptions {
  /** Where the line goes (a terminal). */
  write: (s: string) => void;
  now?: () => number;
  /** Nothing is drawn before this many ms have passed, so a quick operation prints nothing extra (default 250). */
  delayMs?: number;
  /** At most one redraw per this many ms (default 100). */
  intervalMs?: number;
}

/**
 * One status line redrawn in place (`\r`, erase line) at most every `intervalMs`, starting only
 * after `delayMs`. `end(final)` erases it and prints `final` on its own line if anything was drawn.
 */
export class LiveLine<T> {
  readonly #opts: Required<LiveLineOptions>;
  readonly #format: (value: T, elapsedMs: number) => string;
  readonly #started: number;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #drawn = false;
  #ended = false;
  #last: T | undefined;

  constructor(format: (value: T, elapsedMs: number) => string, opts: LiveLineOptions) {
    this.#format = format;
    this.#opts = { now: Date.now, delayMs: 250, intervalMs: 100, ...opts };
    this.#started = this.#opts.now();
  }

  update(value: T): void {
    if (this.#ended) return;
    this.#last = value;
    const now = this.#opts.now();
    const elapsed = now - this.#started;
    if (elapsed < this.#opts.delayMs || now - this.#lastDraw < this.#opts.intervalMs) return;
    this.#lastDraw = now;
    this.#drawn = true;
    this.#opts.write(`\r\x1b[K${this.#format(value, elapsed)}`);
  }

  /**
   * Erases the line; if it was ever drawn, prints the last value (or `final`) for good. Before the
   * first value it does nothing, so that a notice printed before the work starts does not end it.
   */
  end(final?: (value: T, elapsedMs: number) => string): void {
    if (this.#ended || this.#last === undefined) return;
    this.#ended = true;
    if (!this.#drawn) return;
    const elapsed = this.#opts.now() - this.#started;
    this.#opts.write(`\r\x1b[K${(final ?? this.#format)(this.#last, elapsed)}\n`);
  }
}
