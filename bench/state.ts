// State under contention: 100 `cilo create` processes started at once on one CILO_HOME (each
// takes the state lock to record its env and subnet), against one create alone. The figure is the
// race's wall time divided by 100: the cost of one create when 100 share the machine and the lock.
// At or below the time of one create alone (target ≤ 1×), racing costs nothing over running them
// one after another: the lock serialises only the state update, not the copying and validating
// around it (on 2 cores the ideal is about 0.5×). The same for `node -e 0` shows what the machine
// gives 100 processes at once. After the race the state must hold 100 envs on 100 subnets.
//   node --import tsx bench/state.ts [--envs 100] [--runs 5]
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, numberArg, printTable, sh, timeMs, type Row } from "./lib.ts";

const root = new URL("..", import.meta.url).pathname;
const ENVS = numberArg("--envs", 100);
const RUNS = numberArg("--runs", 5);
const home = mkdtempSync(join(tmpdir(), "cilo-bench-state-"));
const env = { ...process.env, CILO_HOME: home, NO_COLOR: "1" };
const cilo = [process.execPath, join(root, "bin/cilo.mjs")];
const from = join(root, "examples/basic");

/** Starts every command at once; resolves with the wall time of the whole race and of each command. */
async function race(commands: string[][]): Promise<{ wall: number; each: number[] }> {
  const t0 = performance.now();
  const each = await Promise.all(
    commands.map(
      ([cmd, ...args]) =>
        new Promise<number>((resolve, reject) => {
          const started = performance.now();
          const child = spawn(cmd!, args, { env, stdio: ["ignore", "ignore", "pipe"] });
          let err = "";
          child.stderr.on("data", (d) => (err += d));
          child.on("close", (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${args.join(" ")}: exit ${code}: ${err}`))));
        }),
    ),
  );
  return { wall: performance.now() - t0, each };
}

try {
  sh(cilo[0]!, [...cilo.slice(1), "init"], { env });
  sh(cilo[0]!, [...cilo.slice(1), "create", "warm-up", "--from", from], { env }); // fills the compose model cache
  const alone = median(Array.from({ length: RUNS }, (_, i) => timeMs(() => sh(cilo[0]!, [...cilo.slice(1), "create", `alone-${i}`, "--from", from], { env }))));
  const node0 = median(Array.from({ length: RUNS }, () => timeMs(() => sh(process.execPath, ["-e", "0"]))));

  const creates = await race(Array.from({ length: ENVS }, (_, i) => [...cilo, "create", `race-${i}`, "--from", from]));
  const nodes = await race(Array.from({ length: ENVS }, () => [process.execPath, "-e", "0"]));

  const listed = JSON.parse(sh(cilo[0]!, [...cilo.slice(1), "list", "--json", "--project", "basic"], { env })) as { name: string; subnet: string }[];
  const raced = listed.filter((e) => e.name.startsWith("race-"));
  if (raced.length !== ENVS || new Set(listed.map((e) => e.subnet)).size !== listed.length || existsSync(join(home, "state.json.lock"))) {
    throw new Error(`after the race: ${raced.length} of ${ENVS} envs, ${new Set(listed.map((e) => e.subnet)).size} subnets for ${listed.length} envs`);
  }

  const perCreate = creates.wall / ENVS;
  const rows: Row[] = [
    {
      what: `cilo create, ${ENVS} at once: wall / ${ENVS}`,
      value: perCreate,
      unit: "ms",
      versus: "one cilo create alone",
      base: alone,
      target: "≤ 1×",
      ok: perCreate <= alone,
    },
    {
      what: `slowest of the ${ENVS} racing creates`,
      value: Math.max(...creates.each),
      unit: "ms",
      versus: "one cilo create alone",
      base: alone,
      target: "report",
      ok: true,
    },
    {
      what: `node -e 0, ${ENVS} at once: wall / ${ENVS}`,
      value: nodes.wall / ENVS,
      unit: "ms",
      versus: "node -e 0 alone",
      base: node0,
      target: "report",
      ok: true,
    },
  ];
  printTable(
    `State under contention: ${ENVS} concurrent creates of examples/basic (race ${(creates.wall / 1000).toFixed(1)} s; all ${ENVS} envs recorded on distinct subnets); alone: median of ${RUNS}`,
    rows,
  );
} finally {
  rmSync(home, { recursive: true, force: true });
}
