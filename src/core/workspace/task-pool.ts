type Task = () => Promise<void>;

/**
 * Runs queued async tasks, at most `limit` at a time. Urgent tasks start first (a tree walk queues
 * folders as urgent so that work is found early). The first failure, or an abort, stops further
 * starts; `drained()` then rejects with it once the running tasks have settled.
 */
export class TaskPool {
  readonly #limit: number;
  readonly #signal: AbortSignal | undefined;
  readonly #urgent: Task[] = [];
  readonly #normal: Task[] = [];
  #active = 0;
  #failure: { error: unknown } | undefined;
  #settle: { resolve: () => void; reject: (e: unknown) => void } | undefined;

  constructor(limit: number, signal?: AbortSignal) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`A task pool needs a positive whole limit, not ${limit}`);
    this.#limit = limit;
    this.#signal = signal;
  }

  add(task: Task, urgent = false): void {
    (urgent ? this.#urgent : this.#normal).push(task);
    this.#pump();
  }

  /** Resolves when every task added so far (and every task they add) has finished. */
  drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
      this.#checkIdle();
    });
  }

  #pump(): void {
    while (this.#failure === undefined && this.#active < this.#limit) {
      if (this.#signal?.aborted) {
        this.#failure = { error: this.#signal.reason };
        break;
      }
      const task = this.#urgent.pop() ?? this.#normal.pop();
      if (task === undefined) break;
      this.#active++;
      task().then(this.#finished, this.#failed);
    }
    this.#checkIdle();
  }

  readonly #finished = (): void => {
    this.#active--;
    this.#pump();
  };

  readonly #failed = (error: unknown): void => {
    this.#failure ??= { error };
    this.#finished();
  };

  #checkIdle(): void {
    if (this.#settle === undefined || this.#active > 0) return;
    if (this.#failure !== undefined) this.#settle.reject(this.#failure.error);
    else if (this.#urgent.length === 0 && this.#normal.length === 0) this.#settle.resolve();
    else return;
    this.#settle = undefined;
  }
}
