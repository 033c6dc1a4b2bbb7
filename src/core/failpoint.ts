import { existsSync, writeFileSync } from "node:fs";

/**
 * Crash and race injection for tests. `CILO_FAILPOINT=<name>`: the process kills itself with
 * SIGKILL right here, as a power cut or `kill -9` would. `CILO_FAILPOINT=<name>@pause:<file>`: it
 * writes `<file>.waiting` and stops here until `<file>` exists (a test does something meanwhile,
 * e.g. takes a resource another program could take at that moment). Costs one env lookup otherwise.
 */
export function failpoint(env: NodeJS.ProcessEnv, name: string): void {
  const wanted = env["CILO_FAILPOINT"];
  if (wanted === undefined) return;
  if (wanted === name) process.kill(process.pid, "SIGKILL");
  const pause = `${name}@pause:`;
  if (wanted.startsWith(pause)) waitForFile(wanted.slice(pause.length));
}

function waitForFile(file: string): void {
  writeFileSync(`${file}.waiting`, String(process.pid));
  // Synchronous on purpose: the failpoint holds the process exactly where it stands.
  const tick = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 120_000;
  while (!existsSync(file) && Date.now() < deadline) Atomics.wait(tick, 0, 0, 50);
}
