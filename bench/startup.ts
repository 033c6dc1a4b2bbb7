// Start-up of the installed CLI (`node bin/cilo.mjs`, what `cilo` runs after npm install -g),
// each against a bare `node -e 0` measured in the same run, alternating, median of N:
//   cilo --version                                          target ≤ 1.5× node -e 0
//   cilo list with 1,000 envs in state                      target ≤ 2×
//   cilo status <env> of a running env (1,000 more in state), minus what its Docker API requests
//   cost a fresh process: the requests are recorded through a proxy socket, then `node -e` makes
//   the same requests over the Docker socket, and its time beyond `node -e 0` is subtracted
//                                                            target ≤ 2×
// and the same from source under Deno (`deno run -A src/main.ts`) against `deno eval 0`, reported.
// With --baseline <dir> (or CILO_BENCH_BASELINE=<dir> through bench/run) (a checkout of an earlier commit, built: <dir>/dist/cilo.mjs), the same
// commands of that build run in the same alternation against the same home, and each figure is
// printed beside the baseline's: "no slower than before" is a same-run ratio (target ≤ 1.05×).
//   node --import tsx bench/startup.ts [--runs 20] [--baseline /tmp/old]
import { spawn, spawnSync } from "node:child_process";
import { createConnection, createServer, type Server } from "node:net";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { envKey, type EnvRecord } from "../src/core/state/schema.ts";
import { readState, withState } from "../src/core/state/store.ts";
import { median, numberArg, printTable, sh, timeCommand, type Row } from "./lib.ts";

const root = new URL("..", import.meta.url).pathname;
const RUNS = numberArg("--runs", 20);
const baselineDir = process.argv.includes("--baseline")
  ? process.argv[process.argv.indexOf("--baseline") + 1]
  : process.env["CILO_BENCH_BASELINE"] || undefined;
const FAKE_ENVS = 1_000;
const deno = join(root, ".tools/deno/node_modules/.bin/deno");
const dockerSocket = process.env["DOCKER_HOST"]?.startsWith("unix://") ? process.env["DOCKER_HOST"].slice(7) : "/var/run/docker.sock";

/** 1,000 stopped envs over 20 projects, 3 services each, on subnets away from the real env's. */
function fakeEnvs(home: string): EnvRecord[] {
  const now = new Date().toISOString();
  return Array.from({ length: FAKE_ENVS }, (_, i) => ({
    project: `proj-${i % 20}`,
    name: `env-${i}`,
    docker_name: `cilo_proj-${i % 20}_env-${i}`,
    status: "stopped",
    subnet: `10.${232 + (i >> 8)}.${i & 255}.0/24`,
    workspace: join(home, "envs", `proj-${i % 20}`, `env-${i}`),
    created_at: now,
    updated_at: now,
    source: { kind: "copy", path: "/src/app" },
    services: ["web", "api", "db"].map((name) => ({ name, ...(name === "web" ? { ingress: true } : {}) })),
  }));
}

/** A unix socket that forwards to the Docker socket and records each request line's method and path. */
function countingProxy(path: string, seen: string[]): Promise<Server> {
  const server = createServer((client) => {
    const upstream = createConnection(dockerSocket);
    client.on("data", (d: Buffer) => {
      for (const m of d.toString("latin1").matchAll(/^(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP\/1\.[01]\r$/gm)) seen.push(`${m[1]} ${m[2]}`);
    });
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

/** A `node -e` script that makes these requests (`METHOD /path`) one after another over the Docker socket. */
function apiScript(lines: string[]): string {
  return `const http = require("node:http");
(async () => {
  for (const line of ${JSON.stringify(lines)}) {
    const [method, path] = line.split(" ");
    await new Promise((resolve, reject) => {
      const req = http.request({ socketPath: ${JSON.stringify(dockerSocket)}, method, path }, (res) => res.resume().on("end", resolve));
      req.on("error", reject);
      req.end();
    });
  }
})();`;
}

/** Instructions the command executes, counted by valgrind's callgrind (its own output discarded). */
function instructions(cmd: string[], env: NodeJS.ProcessEnv): number {
  const r = spawnSync("valgrind", ["--tool=callgrind", "--callgrind-out-file=/dev/null", ...cmd], { env, encoding: "utf8" });
  const m = /refs:\s*([\d,]+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`valgrind ${cmd.join(" ")} failed (${r.status}): ${r.stderr.slice(-500)}`);
  return Number(m[1]!.replaceAll(",", ""));
}

/** A new home (inside `home`, removed with it) holding `home`'s state as one schema-2 state.json (every env record inline). */
function legacyHomeCopy(home: string): string {
  const copy = join(home, "baseline-home");
  mkdirSync(copy);
  const state = readState({ home });
  const legacy = { ...JSON.parse(JSON.stringify(state)), version: 2 };
  writeFileSync(join(copy, "state.json"), JSON.stringify(legacy), { mode: 0o600 });
  return copy;
}

function run(cmd: string[], env: NodeJS.ProcessEnv): void {
  sh(cmd[0]!, cmd.slice(1), { env });
}

const home = mkdtempSync(join(tmpdir(), "cilo-bench-startup-"));
const env = { ...process.env, CILO_HOME: home, NO_COLOR: "1" };
const node = [process.execPath];
const cilo = [...node, join(root, "bin/cilo.mjs")];
const ciloDeno = [deno, "run", "-A", join(root, "src/main.ts")];
const envRef = "basic/bench-status";
try {
  run([...cilo, "init", "--dns-port", String(20_000 + Math.floor(Math.random() * 20_000))], env);
  run([...cilo, "create", "bench-status", "--from", join(root, "examples/basic")], env);
  run([...cilo, "up", envRef, "--wait"], env);
  await withState({ home, env }, (state) => {
    for (const e of fakeEnvs(home)) state.envs[envKey(e.project, e.name)] = e;
  });

  const proxy = join(home, "docker-proxy.sock");
  const requests: string[] = [];
  const server = await countingProxy(proxy, requests);
  const counted = spawn(cilo[0]!, [...cilo.slice(1), "status", envRef], { env: { ...env, DOCKER_HOST: `unix://${proxy}` }, stdio: "ignore" });
  const code = await new Promise<number | null>((resolve) => counted.on("close", resolve));
  server.close();
  if (code !== 0 || requests.length === 0) throw new Error(`cilo status through the counting proxy failed (exit ${code}, ${requests.length} requests)`);

  const commands: Record<string, string[]> = {
    node0: [...node, "-e", "0"],
    api: [...node, "-e", apiScript(requests)],
    version: [...cilo, "--version"],
    list: [...cilo, "list"],
    status: [...cilo, "status", envRef],
    deno0: [deno, "eval", "0"],
    denoVersion: [...ciloDeno, "--version"],
    denoList: [...ciloDeno, "list"],
    ...(baselineDir
      ? {
          baseVersion: [...node, join(baselineDir, "dist/cilo.mjs"), "--version"],
          baseList: [...node, join(baselineDir, "dist/cilo.mjs"), "list"],
          baseStatus: [...node, join(baselineDir, "dist/cilo.mjs"), "status", envRef],
        }
      : {}),
  };
  // The baseline reads a home of its own: the same envs and config in the single-file state.json
  // (schema 2) that builds before the index + records layout (docs/state.md) understand.
  const baseHome = baselineDir ? legacyHomeCopy(home) : undefined;
  const envOf = (k: string) => (k.startsWith("base") && baseHome ? { ...env, CILO_HOME: baseHome } : env);
  for (const [k, cmd] of Object.entries(commands)) run(cmd, envOf(k)); // warm the page cache and Deno's transpile cache
  const names = Object.keys(commands);
  const times = new Map(names.map((k) => [k, [] as number[]]));
  const cpu = new Map(names.map((k) => [k, [] as number[]]));
  for (let i = 0; i < RUNS; i++) {
    for (const k of names) {
      const [cmd, ...args] = commands[k]!;
      const t = timeCommand(cmd!, args, { env: envOf(k) });
      times.get(k)!.push(t.wallMs);
      cpu.get(k)!.push(t.cpuMs);
    }
  }
  type Measured = Record<
    "node0" | "api" | "version" | "list" | "status" | "deno0" | "denoVersion" | "denoList" | "baseVersion" | "baseList" | "baseStatus",
    number
  >;
  const m = Object.fromEntries(names.map((k) => [k, median(times.get(k)!)])) as Measured;
  const c = Object.fromEntries(names.map((k) => [k, median(cpu.get(k)!)])) as Measured;
  const listLines = sh(cilo[0]!, [...cilo.slice(1), "list", "--format", "quiet"], { env })
    .trim()
    .split("\n").length;
  if (listLines !== FAKE_ENVS + 1) throw new Error(`cilo list printed ${listLines} envs, expected ${FAKE_ENVS + 1}`);

  const vsNode = "node -e 0";
  const api = m.api - m.node0;
  const calls = `${requests.length} Docker API request${requests.length > 1 ? "s" : ""}`;
  /** A row whose target is "at most `times` × the comparison". */
  const within = (what: string, value: number, versus: string, base: number, times: number): Row => ({
    what,
    value,
    unit: "ms",
    versus,
    base,
    target: `≤ ${times}×`,
    ok: value <= times * base,
  });
  const rows: Row[] = [
    within("cilo --version", m.version, vsNode, m.node0, 1.5),
    within(`cilo list (${FAKE_ENVS} envs)`, m.list, vsNode, m.node0, 2),
    within(`cilo status <env> − ${calls} (${api.toFixed(0)} ms)`, m.status - api, vsNode, m.node0, 2),
    // CPU time: what a loaded machine (agents running many jobs) changes least.
    within("cilo --version, CPU time", c.version, `${vsNode}, CPU time`, c.node0, 1.5),
    within(`cilo list (${FAKE_ENVS} envs), CPU time`, c.list, `${vsNode}, CPU time`, c.node0, 2),
    { what: "deno: cilo --version (source)", value: m.denoVersion, unit: "ms", versus: "deno eval 0", base: m.deno0, target: "report", ok: true },
    { what: `deno: cilo list (${FAKE_ENVS} envs, source)`, value: m.denoList, unit: "ms", versus: "deno eval 0", base: m.deno0, target: "report", ok: true },
  ];
  if (baselineDir) {
    const base = `baseline ${baselineDir}`;
    // Instructions executed (valgrind's callgrind), when valgrind is installed: the same within
    // about 1% on a loaded machine, where CPU time moves by more than the difference looked for.
    if (spawnSync("valgrind", ["--version"]).status === 0) {
      const counted = (k: string) => median([1, 2, 3].map(() => instructions(commands[k]!, envOf(k))));
      for (const [what, now, then] of [
        ["cilo --version", "version", "baseVersion"],
        [`cilo list (${FAKE_ENVS} envs)`, "list", "baseList"],
        ["cilo status <env>", "status", "baseStatus"],
      ] as const) {
        const a = counted(now);
        const b = counted(then);
        rows.push({
          what: `${what}, M instructions`,
          value: a / 1e6,
          unit: "M",
          versus: `${base}, M instructions`,
          base: b / 1e6,
          target: "≤ 1.02×",
          ok: a <= 1.02 * b,
        });
      }
    }
    rows.push(
      within("cilo --version, CPU time", c.version, `${base}, CPU time`, c.baseVersion, 1.05),
      within(`cilo list (${FAKE_ENVS} envs), CPU time`, c.list, `${base}, CPU time`, c.baseList, 1.05),
      within("cilo status <env>, CPU time", c.status, `${base}, CPU time`, c.baseStatus, 1.05),
    );
  }
  printTable(`Start-up: median of ${RUNS} alternating runs; cilo status made ${requests.map((r) => r.split("?")[0]).join(", ")}`, rows);
} finally {
  spawnSync(cilo[0]!, [...cilo.slice(1), "destroy", envRef, "--force"], { env, stdio: "ignore" });
  spawnSync(cilo[0]!, [...cilo.slice(1), "dns", "stop"], { env, stdio: "ignore" });
  rmSync(home, { recursive: true, force: true });
}
