// A full e2e workflow of examples/basic through `cilo run <workflow>` (clone, create, up, wait
// healthy, run a check in the env, destroy) against the same steps by hand with bare compose
// (copy the folder, `docker-compose -p … up -d`, wait until healthy, `exec`, `down -v`),
// alternated in the same run, medians; the by-hand side also once with `down -v -t 0` (no stop
// timeout, as cilo's destroy). Also the destroy step's own wall time (3 services).
// Targets (issue 14): cilo ≤ 1.1× bare, destroy ≤ 3 s.
//   node --import tsx bench/e2e.ts [--runs 3]
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, numberArg, printTable, sh, timeMs, type Row } from "./lib.ts";

const root = new URL("..", import.meta.url).pathname;
const RUNS = numberArg("--runs", 3);
/** How often both sides check health: the same interval, so neither wins by polling more. */
const POLL_MS = 250;
const RATIO_TARGET = 1.1;
const DESTROY_TARGET_MS = 3_000;

const rand = Math.random().toString(36).slice(2, 7);
const dir = mkdtempSync(join(tmpdir(), "cilo-bench-e2e-"));
const home = join(dir, "home");
const env = { ...process.env, CILO_HOME: home };
// The project folder's name is the project's: unique to this run, so no one else's env is touched.
const project = `bench-e2e-${rand}`;
const src = join(dir, project);
cpSync(join(root, "examples/basic"), src, { recursive: true });
// The check both sides run in the env: the api fetches the web front by its service name.
const check = ["wget", "-q", "-O", "-", "http://web/"];
writeFileSync(
  join(src, "e2e.workflow.yaml"),
  `version: 1
name: bench-e2e
steps:
  - clone: { from: . }
  - create: {}
  - up: {}
  - wait: { healthy: true, interval: ${POLL_MS}ms, timeout: 2m }
  - exec: { service: api, command: ${JSON.stringify(check)} }
  - id: destroy
    destroy: {}
    if: always()
`,
);

const cilo = (...a: string[]) => sh(process.execPath, [join(root, "dist/cilo.mjs"), ...a], { env, cwd: src });

interface Ended {
  type: string;
  id?: string;
  action?: string;
  duration_ms?: number;
  outcome?: string;
}

/** One e2e run through cilo; returns the destroy step's own duration (ms). */
function ciloRun(): number {
  const events = cilo("run", "e2e.workflow.yaml", "--json")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Ended);
  const end = events.find((e) => e.type === "workflow_end");
  if (end?.outcome !== "success") throw new Error(`the e2e workflow did not succeed: ${JSON.stringify(end)}`);
  const destroy = events.find((e) => e.type === "step_end" && e.action === "destroy");
  if (destroy?.duration_ms === undefined) throw new Error("no destroy step_end event");
  return destroy.duration_ms;
}

/**
 * The same steps by hand with bare docker-compose; returns how long its `down -v` took (ms).
 * `quickDown`: `down -v -t 0`, as cilo's destroy (no stop timeout), instead of compose's default
 * 10 s, which busybox's httpd and nc (PID 1, no SIGTERM handler) wait out in full.
 */
function bareRun(i: number, quickDown = false): number {
  const ws = join(dir, `bare-${i}${quickDown ? "-quick" : ""}`);
  cpSync(src, ws, { recursive: true });
  const compose = ["-p", `${project}-bare-${i}${quickDown ? "-quick" : ""}`, "-f", join(ws, "compose.yml")];
  const dc = (...a: string[]) => sh("docker-compose", [...compose, ...a], { cwd: ws });
  try {
    dc("up", "-d");
    const deadline = Date.now() + 120_000;
    for (;;) {
      const ids = dc("ps", "-q").split("\n").filter(Boolean);
      const states = sh("docker", ["inspect", "-f", "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", ...ids])
        .trim()
        .split("\n");
      if (ids.length === 3 && states.every((s) => /^running( healthy)?$/.test(s.trim()))) break;
      if (Date.now() > deadline) throw new Error(`bare compose: not healthy after 2 min: ${states.join(", ")}`);
      spawnSync("sleep", [String(POLL_MS / 1000)]);
    }
    dc("exec", "-T", "api", ...check);
  } catch (e) {
    dc("down", "-v");
    rmSync(ws, { recursive: true, force: true });
    throw e;
  }
  const down = timeMs(() => dc("down", "-v", ...(quickDown ? ["-t", "0"] : [])));
  rmSync(ws, { recursive: true, force: true });
  return down;
}

const rows: Row[] = [];
try {
  cilo("init", "--dns-port", String(20000 + Math.floor(Math.random() * 20000)));
  // One of each first: warms the compose CLI, the model cache and the page cache alike.
  ciloRun();
  bareRun(0);
  const ciloMs: number[] = [];
  const bareMs: number[] = [];
  const destroyMs: number[] = [];
  const bareDownMs: number[] = [];
  const quickMs: number[] = [];
  const quickDownMs: number[] = [];
  for (let i = 1; i <= RUNS; i++) {
    let destroy = 0;
    ciloMs.push(
      timeMs(() => {
        destroy = ciloRun();
      }),
    );
    destroyMs.push(destroy);
    let down = 0;
    bareMs.push(
      timeMs(() => {
        down = bareRun(i);
      }),
    );
    bareDownMs.push(down);
    let quickDown = 0;
    quickMs.push(
      timeMs(() => {
        quickDown = bareRun(i, true);
      }),
    );
    quickDownMs.push(quickDown);
    console.log(
      `run ${i}: cilo ${ciloMs.at(-1)!.toFixed(0)} ms (destroy ${destroy} ms), bare ${bareMs.at(-1)!.toFixed(0)} ms (down -v ${down.toFixed(0)} ms), ` +
        `bare with down -t 0 ${quickMs.at(-1)!.toFixed(0)} ms (down ${quickDown.toFixed(0)} ms)`,
    );
  }
  const c = median(ciloMs);
  const b = median(bareMs);
  rows.push({
    what: "e2e workflow of examples/basic (cilo run)",
    value: c,
    unit: "ms",
    versus: "the same steps with bare docker-compose",
    base: b,
    target: `≤ ${RATIO_TARGET}×`,
    ok: c <= RATIO_TARGET * b,
  });
  const q = median(quickMs);
  rows.push({
    what: "e2e workflow of examples/basic (cilo run)",
    value: c,
    unit: "ms",
    versus: "the same by hand, down -v -t 0",
    base: q,
    target: `≤ ${RATIO_TARGET}×`,
    ok: c <= RATIO_TARGET * q,
  });
  const d = median(destroyMs);
  rows.push({
    what: "destroy step of that run (3 services)",
    value: d,
    unit: "ms",
    versus: "bare docker-compose down -v, same run",
    base: median(bareDownMs),
    target: `≤ ${DESTROY_TARGET_MS / 1000} s`,
    ok: d <= DESTROY_TARGET_MS,
  });
  rows.push({
    what: "destroy step of that run (3 services)",
    value: d,
    unit: "ms",
    versus: "bare docker-compose down -v -t 0",
    base: median(quickDownMs),
    target: `≤ ${DESTROY_TARGET_MS / 1000} s`,
    ok: d <= DESTROY_TARGET_MS,
  });
} finally {
  spawnSync(process.execPath, [join(root, "dist/cilo.mjs"), "dns", "stop"], { env });
  rmSync(dir, { recursive: true, force: true });
}
printTable(`e2e workflow, cilo vs bare compose (median of ${RUNS} alternated runs)`, rows);
