/**
 * `CILO_TIMINGS=1`: one stderr line per step of an operation, with the milliseconds since the
 * process started (`cilo: timing 212 ms compose up started`), to see where a command's time goes.
 */
export function timing(env: Readonly<Record<string, string | undefined>>, label: string): void {
  if (env["CILO_TIMINGS"] === "1") process.stderr.write(`cilo: timing ${performance.now().toFixed(0)} ms ${label}\n`);
}
