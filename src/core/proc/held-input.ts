/**
 * The standard input of a program started before its input exists (`run`'s `input` as a promise):
 * `give` hands it over once; `refuse` before that makes `run` kill the program unfed (it has read
 * nothing). Used to start compose (`env/up-early.ts`) and a push's receiver (`host/early-push.ts`)
 * while cilo still works out what to give them.
 */
export interface HeldInput<T> {
  input: Promise<T>;
  give(value: T): void;
  /** Kills the program unless its input was given (a no-op after `give`). */
  refuse(why: string): void;
}

export function heldInput<T>(): HeldInput<T> {
  let resolve!: (value: T) => void;
  let reject!: (e: Error) => void;
  const input = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  input.catch(() => {}); // run sees the refusal; nothing else must
  let given = false;
  return {
    input,
    give(value) {
      given = true;
      resolve(value);
    },
    refuse(why) {
      if (!given) reject(new Error(why));
    },
  };
}
