// State at scale and under contention (issue 16), in one table:
// - single-env create, status and destroy: CPU time of the cilo process (its own, from
//   bench/cpu-report.cjs; compose and git children not counted), median of --runs, with 10, 1,000
//   and 10,000 envs already in state (fake running envs, 3 services each, DNS served). Target:
//   10,000 within 1.2× of 10.
// - `cilo list --json`: linear, not quadratic: the CPU each env adds from 1,000 to 10,000 envs
//   against what each added from 10 to 1,000 (≤ 1.2×); beside it, at 10,000, against `cilo list`
//   (the table, which reads only state.json's index: --json reads every env's record and prints
//   ~1.5 KB per env), and the table at 10,000 against 10.
// - 100 `cilo create` processes started at once on one CILO_HOME against one create alone: the
//   race's wall time / 100 (≤ 1×: racing costs nothing over one after another) and the slowest
//   (issue 16 target ≤ 5×; bounded below by 100 × one create's CPU / cores, printed beside it, and
//   by 100 `node -e 0` started at once: their slowest against the same one create alone).
// After the race the state must hold 100 envs on 100 subnets and no lock.
//   node --import tsx bench/state.ts [--envs 100] [--runs 5] [--scale 10,1000,10000] [--scale-runs 3]
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { envKey, type EnvRecord } from "../src/core/state/schema.ts";
import { withState } from "../src/core/state/store.ts";
import { median, numberArg, printTable, sh, timeMs, type Row } from "./lib.ts";

const root = new URL("..", import.meta.url).pathname;
const ENVS = numberArg("--envs", 100);
const RUNS = numberArg("--runs", 5);
const SCALE_RUNS = numberArg("--scale-runs", 3);
const scaleAt = process.argv.indexOf("--scale");
const SCALE = (scaleAt > 0 ? process.argv[scaleAt + 1]! : "10,1000,10000").split(",").map(Number);
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

/** `n` running envs over 20 projects, 3 services with addresses each, subnets outside the pool; 1 in 50 joins another's network. */
function fakeEnvs(homeDir: string, homeId: string, n: number): EnvRecord[] {
  const now = new Date().toISOString();
  return Array.from({ length: n }, (_, i) => {
    const project = `proj-${i % 20}`;
    const name = `env-${i}`;
    const net = `10.${100 + (i >> 8)}.${i & 255}`;
    return {
      project,
      name,
      docker_name: `cilo_${homeId}_${project}_${name}`,
      status: "running",
      subnet: `${net}.0/24`,
      workspace: join(homeDir, "envs", project, name),
      created_at: now,
      updated_at: now,
      source: { kind: "copy", path: "/src/app" },
      services: ["web", "api", "db"].map((s, j) => ({ name: s, ip: `${net}.${j + 2}`, ...(j === 0 ? { ingress: true } : {}) })),
      ...(i % 50 === 1 ? { shared_networks: [`proj-${(i - 1) % 20}/env-${i - 1}`] } : {}),
    };
  });
}

/** CPU time (ms) of single-env operations with `n` envs in state, and of list and list --json. */
async function atScale(n: number): Promise<Record<string, number>> {
  const h = mkdtempSync(join(tmpdir(), "cilo-bench-scale-"));
  const cpuOut = join(h, "cpu.txt");
  const e = { ...process.env, CILO_HOME: h, NO_COLOR: "1", NODE_OPTIONS: `--require ${join(root, "bench/cpu-report.cjs")}` };
  const cpu = (args: string[]): number => {
    writeFileSync(cpuOut, "");
    sh(cilo[0]!, [...cilo.slice(1), ...args], { env: { ...e, CILO_BENCH_CPU_OUT: cpuOut } });
    return Number(readFileSync(cpuOut, "utf8").trim().split("\n")[0]);
  };
  try {
    sh(cilo[0]!, [...cilo.slice(1), "init", "--dns-port", String(20_000 + Math.floor(Math.random() * 20_000))], { env: e });
    await withState({ home: h, env: e }, (state) => {
      for (const rec of fakeEnvs(h, state.home_id, n)) state.envs[envKey(rec.project, rec.name)] = rec;
    });
    sh(cilo[0]!, [...cilo.slice(1), "dns", "start"], { env: e }); // the first full write of every hosts file
    sh(cilo[0]!, [...cilo.slice(1), "create", "warm-up", "--from", from], { env: e });
    const runs: Record<string, number[]> = { create: [], status: [], destroy: [] };
    for (let i = 0; i < SCALE_RUNS; i++) {
      runs["create"]!.push(cpu(["create", `one-${i}`, "--from", from]));
      runs["status"]!.push(cpu(["status", `basic/one-${i}`]));
      runs["destroy"]!.push(cpu(["destroy", `basic/one-${i}`]));
    }
    const out: Record<string, number> = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
    out["list"] = median(Array.from({ length: SCALE_RUNS }, () => cpu(["list"]))); // the table: the index only
    out["list --json"] = median(Array.from({ length: SCALE_RUNS }, () => cpu(["list", "--json"])));
    return out;
  } finally {
    try {
      sh(cilo[0]!, [...cilo.slice(1), "dns", "stop"], { env: e });
    } catch {
      // none running
    }
    rmSync(h, { recursive: true, force: true });
  }
}

const largest = Math.max(...SCALE);
const scale = new Map<number, Record<string, number>>();
for (const n of SCALE) scale.set(n, await atScale(n));
const smallest = scale.get(Math.min(...SCALE))!;
const scaleRows: Row[] = [];
for (const op of ["create", "status", "destroy"]) {
  for (const n of SCALE.filter((x) => x !== Math.min(...SCALE))) {
    const v = scale.get(n)![op]!;
    scaleRows.push({
      what: `cilo ${op}, CPU, ${n.toLocaleString("en")} envs in state`,
      value: v,
      unit: "ms",
      versus: `the same, ${Math.min(...SCALE)} envs`,
      base: smallest[op]!,
      target: n === largest ? "≤ 1.2×" : "report",
      ok: n !== largest || v <= 1.2 * smallest[op]!,
    });
  }
}
const big = scale.get(largest)!;
scaleRows.push({
  what: `cilo list (table), CPU, ${largest.toLocaleString("en")} envs`,
  value: big["list"]!,
  unit: "ms",
  versus: `the same, ${Math.min(...SCALE)} envs`,
  base: smallest["list"]!,
  target: "report",
  ok: true,
});
scaleRows.push({
  what: `cilo list --json, CPU, ${largest.toLocaleString("en")} envs`,
  value: big["list --json"]!,
  unit: "ms",
  versus: `cilo list (table), ${largest.toLocaleString("en")} envs`,
  base: big["list"]!,
  target: "report",
  ok: true,
});
// Linear: what each env adds costs the same in the last decade as in the first ones (quadratic
// work would make it ~10× from 1,000 → 10,000 against 10 → 1,000).
const sizes = [...SCALE].sort((a, b) => a - b);
if (sizes.length >= 3) {
  const [s0, s1, s2] = [sizes[0]!, sizes[sizes.length - 2]!, sizes[sizes.length - 1]!];
  const perEnv = (a: number, b: number) => (scale.get(b)!["list --json"]! - scale.get(a)!["list --json"]!) / (b - a);
  const late = perEnv(s1, s2);
  const early = perEnv(s0, s1);
  scaleRows.push({
    what: `cilo list --json, CPU per env added, ${s1.toLocaleString("en")} → ${s2.toLocaleString("en")} envs`,
    value: late * 1000,
    unit: "µs",
    versus: `the same, ${s0.toLocaleString("en")} → ${s1.toLocaleString("en")} envs`,
    base: early * 1000,
    target: "≤ 1.2×",
    ok: late <= 1.2 * early,
  });
}

try {
  sh(cilo[0]!, [...cilo.slice(1), "init"], { env });
  sh(cilo[0]!, [...cilo.slice(1), "create", "warm-up", "--from", from], { env }); // fills the compose model cache
  const alone = median(Array.from({ length: RUNS }, (_, i) => timeMs(() => sh(cilo[0]!, [...cilo.slice(1), "create", `alone-${i}`, "--from", from], { env }))));
  const node0 = median(Array.from({ length: RUNS }, () => timeMs(() => sh(process.execPath, ["-e", "0"]))));

  const aloneCpu = (() => {
    const out = join(home, "cpu.txt");
    const e = { ...env, NODE_OPTIONS: `--require ${join(root, "bench/cpu-report.cjs")}`, CILO_BENCH_CPU_OUT: out };
    return median(
      Array.from({ length: RUNS }, (_, i) => {
        writeFileSync(out, "");
        sh(cilo[0]!, [...cilo.slice(1), "create", `alone-cpu-${i}`, "--from", from], { env: e });
        return Number(readFileSync(out, "utf8").trim());
      }),
    );
  })();
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
      target: "≤ 5×",
      ok: Math.max(...creates.each) <= 5 * alone,
    },
    {
      what: `slowest of the ${ENVS} racing creates`,
      value: Math.max(...creates.each),
      unit: "ms",
      versus: `${ENVS} × one create's CPU / ${cpus().length} cores`,
      base: (ENVS * aloneCpu) / cpus().length,
      target: "report",
      ok: true,
    },
    {
      what: `slowest of ${ENVS} node -e 0 started at once`,
      value: Math.max(...nodes.each),
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
  printTable(`State at scale: CPU of one cilo process (median of ${SCALE_RUNS}) with ${SCALE.join(", ")} envs in state`, scaleRows);
  printTable(
    `State under contention: ${ENVS} concurrent creates of examples/basic (race ${(creates.wall / 1000).toFixed(1)} s; all ${ENVS} envs recorded on distinct subnets); alone: median of ${RUNS}`,
    rows,
  );
} finally {
  rmSync(home, { recursive: true, force: true });
}
