// Workflow engine overhead: a workflow of 200 trivial `run: "true"` steps against the same 200
// commands in a shell loop, alternated in the same run, median of N. Measured twice: through the
// CLI (`cilo run wf.yaml --json`, start-up included) and in-process (the engine alone).
//   node --import tsx bench/workflow.ts [--runs 5] [--steps 200]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createContext } from "../src/core/context/context.ts";
import { WorkflowRunner } from "../src/workflow/engine.ts";
import { loadWorkflow } from "../src/workflow/load.ts";
import { median, printTable, sh, timeAsync, timeMs, type Row } from "./lib.ts";

const root = new URL("..", import.meta.url).pathname;
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg("--runs", 5);
const STEPS = arg("--steps", 200);
const TARGET_MS = 15;

const dir = mkdtempSync(join(tmpdir(), "cilo-bench-wf-"));
const env = { ...process.env, CILO_HOME: join(dir, "home") };
const ctx = createContext({
  env,
  cwd: dir,
  createProvider: async (endpoint, e) => new (await import("../src/providers/docker/docker-provider.ts")).DockerProvider(endpoint, e),
});
const file = join(dir, "wf.yaml");
writeFileSync(file, `version: 1\nname: trivial\nsteps:\n${Array.from({ length: STEPS }, () => '  - run: "true"\n').join("")}`);

const loop = () => sh("bash", ["-c", `for i in $(seq ${STEPS}); do bash -c true; done`]);
const cli = () => sh(process.execPath, [join(root, "dist/cilo.mjs"), "run", file, "--json"], { env });
async function engine(): Promise<void> {
  const loaded = await loadWorkflow(file);
  const result = await new WorkflowRunner(loaded, { ctx, onEvent: () => {} }).run();
  if (result.exitCode !== 0) throw new Error(`the benchmark workflow failed: ${result.reason}`);
}

const rows: Row[] = [];
try {
  loop();
  cli();
  await engine();
  const loopMs: number[] = [];
  const cliMs: number[] = [];
  const engineMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    loopMs.push(timeMs(loop));
    cliMs.push(timeMs(cli));
    engineMs.push(await timeAsync(engine));
  }
  const base = median(loopMs);
  for (const [what, times] of [
    [`cilo run (CLI, ${STEPS} run: "true" steps)`, cliMs],
    [`workflow engine in-process (${STEPS} steps)`, engineMs],
  ] as const) {
    const total = median(times);
    const perStep = (total - base) / STEPS;
    rows.push({
      what,
      value: total,
      unit: "ms",
      versus: `bash loop of ${STEPS} × bash -c true`,
      base,
      target: `< ${TARGET_MS} ms/step overhead`,
      ok: perStep < TARGET_MS,
    });
    console.log(`${what}: ${total.toFixed(0)} ms, loop ${base.toFixed(0)} ms, overhead ${perStep.toFixed(2)} ms per step`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
printTable(`workflow engine overhead (median of ${RUNS} alternated runs)`, rows);
