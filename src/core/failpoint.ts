/**
 * Crash injection for tests: when `CILO_FAILPOINT` names this point, the process kills itself with
 * SIGKILL right here, as a power cut or `kill -9` would. Costs one env lookup otherwise.
 */
export function failpoint(name: string): void {
  const wanted = process.env["CILO_FAILPOINT"];
  if (wanted !== undefined && wanted === name) {
    process.kill(process.pid, "SIGKILL");
  }
}
