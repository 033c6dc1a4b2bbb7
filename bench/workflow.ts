// Workflow engine overhead: a workflow of 200 trivial `run: "true"` steps against the same 200
// commands in a shell loop, alternated in the same run, median of N. Measured twice: through the
// CLI (`cilo run wf.yaml --json`, start-up included) and in-process (the engine alone). Per step:
// wall and CPU time (user + system of the process and its children, as bash's `time` reports it)
// of the 200-step run minus a 1-step run minus the loop, divided by 199. And `cilo run`'s fixed
// cost: a 1-step workflow against `node -e 0` (issue 16: ≤ 5 ms a step; the fixed cost reported).
//   node --import tsx bench/workflow.ts [--runs 5] [--steps 200]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createContext } from "../src/core/context/context.ts";
import { WorkflowRunner } from "../src/workflow/engine.ts";
import { loadWorkflow } from "../src/workflow/load.ts";
import { median, printTable, timeAsync, timeCommand, type Row } from "./lib.ts";

const root = new URL("..", import.meta.url).pathname;
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg("--runs", 5);
const STEPS = arg("--steps", 200);
const TARGET_MS = 5;

const dir = mkdtempSync(join(tmpdir(), "cilo-bench-wf-"));
const env = { ...process.env, CILO_HOME: join(dir, "home") };
const ctx = createContext({
  env,
  cwd: dir,
  createProvider: async (endpoint, e) => new (await import("../src/providers/docker/docker-provider.ts")).DockerProvider(endpoint, e),
});
const file = join(dir, "wf.yaml");
writeFileSync(file, `version: 1\nname: trivial\nsteps:\n${Array.from({ length: STEPS }, () => '  - run: "true"\n').join("")}`);
const one = join(dir, "one.yaml");
writeFileSync(one, 'version: 1\nname: one\nsteps:\n  - run: "true"\n');

const loop = () => timeCommand("bash", ["-c", `for i in $(seq ${STEPS}); do bash -c true; done`]);
const cli = (f: string) => timeCommand(process.execPath, [join(root, "dist/cilo.mjs"), "run", f, "--json"], { env });
const node0 = () => timeCommand(process.execPath, ["-e", "0"]);
async function engine(): Promise<void> {
  const loaded = await loadWorkflow(file);
  const result = await new WorkflowRunner(loaded, { ctx, onEvent: () => {} }).run();
  if (result.exitCode !== 0) throw new Error(`the benchmark workflow failed: ${result.reason}`);
}

const rows: Row[] = [];
try {
  loop();
  cli(file);
  await engine();
  const runs: Record<"loop" | "cli" | "one" | "node", { wallMs: number; cpuMs: number }[]> = { loop: [], cli: [], one: [], node: [] };
  const engineMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    runs.loop.push(loop());
    runs.cli.push(cli(file));
    runs.one.push(cli(one));
    runs.node.push(node0());
    engineMs.push(await timeAsync(engine));
  }
  const med = (k: keyof typeof runs, m: "wallMs" | "cpuMs") => median(runs[k].map((r) => r[m]));
  const loopWall = med("loop", "wallMs");
  const perStep = (m: "wallMs" | "cpuMs") => (med("cli", m) - med("one", m) - med("loop", m) * ((STEPS - 1) / STEPS)) / (STEPS - 1);
  for (const m of ["wallMs", "cpuMs"] as const) {
    const label = m === "wallMs" ? "wall" : "CPU";
    rows.push({
      what: `cilo run, ${STEPS} run: "true" steps (${label})`,
      value: med("cli", m),
      unit: "ms",
      versus: `bash loop of ${STEPS} × bash -c true (${label})`,
      base: med("loop", m),
      target: `≤ ${TARGET_MS} ms/step overhead`,
      ok: perStep(m) <= TARGET_MS,
    });
    console.log(
      `cilo run ${label}: ${med("cli", m).toFixed(0)} ms for ${STEPS} steps, ${med("one", m).toFixed(0)} ms for 1, loop ${med("loop", m).toFixed(0)} ms: ${perStep(m).toFixed(2)} ms per step over its shell`,
    );
  }
  const engineTotal = median(engineMs);
  rows.push({
    what: `workflow engine in-process (${STEPS} steps, wall)`,
    value: engineTotal,
    unit: "ms",
    versus: `bash loop of ${STEPS} × bash -c true (wall)`,
    base: loopWall,
    target: `≤ ${TARGET_MS} ms/step overhead`,
    ok: (engineTotal - loopWall) / STEPS <= TARGET_MS,
  });
  console.log(`engine in-process: ${engineTotal.toFixed(0)} ms, ${((engineTotal - loopWall) / STEPS).toFixed(2)} ms per step over its shell`);
  for (const m of ["wallMs", "cpuMs"] as const) {
    const label = m === "wallMs" ? "wall" : "CPU";
    rows.push({
      what: `cilo run, 1 run: "true" step: fixed cost (${label})`,
      value: med("one", m),
      unit: "ms",
      versus: `node -e 0 (${label})`,
      base: med("node", m),
      target: "report",
      ok: true,
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
printTable(`workflow engine overhead (median of ${RUNS} alternated runs)`, rows);
