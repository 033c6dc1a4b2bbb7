// Runs many uvu test files in ONE process (started by scripts/test.mjs as `node --import tsx
// scripts/unit-runner.mjs <files...>`): start-up (tsx, module loading) is paid once instead of once
// per file. Unit files may not change process-wide state (process.env, the working folder): core
// takes those from a CiloContext (test/helpers/context.ts).
//
// Each file's suites are queued as uvu's own `uvu/run` does (UVU_DEFER, one queue group per file),
// then run here group by group so that every file gets its own counts. After each file one line
//   @@cilo-unit {"file":…,"total":…,"passed":…,"skipped":…,"ms":…,"errors":"…"}
// tells scripts/test.mjs how it went; a file that throws while loading counts as one failure.
// Exits 1 when anything failed.
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

globalThis.UVU_DEFER = 1;
await import("uvu");
const queue = globalThis.UVU_QUEUE;
const files = process.argv.slice(2);
const loadErrors = new Map();
for (const [index, file] of files.entries()) {
  globalThis.UVU_INDEX = index;
  queue.push([file]);
  try {
    await import(pathToFileURL(file).href);
  } catch (e) {
    loadErrors.set(index, e instanceof Error ? (e.stack ?? e.message) : String(e));
  }
}

let failed = false;
for (const [index, group] of queue.entries()) {
  const [file, ...suites] = group;
  const started = performance.now();
  let total = 0;
  let passed = 0;
  let skipped = 0;
  let errors = loadErrors.get(index) ?? "";
  for (const suite of suites) {
    const [errs, ran, skip, max] = await suite();
    total += max;
    passed += ran;
    skipped += skip;
    if (errs !== true) errors += `${errors ? "\n" : ""}${errs}`;
  }
  if (loadErrors.has(index)) total += 1; // a file that did not load counts as one failed test
  if (passed + skipped < total) failed = true;
  const line = { file, total, passed, skipped, ms: Math.round(performance.now() - started), errors };
  process.stdout.write(`\n@@cilo-unit ${JSON.stringify(line)}\n`);
}
// Leftover handles of a test (a server, a timer) must not keep the run alive.
process.exit(failed ? 1 : 0);
