// 20 `cilo up`s of different envs at once against the same 20 `docker-compose up -d` run at once by
// hand on the same rendered files (issue 16 item 2, target ≤ 1.5×), alternated, median of --runs.
// Each env is examples/basic (3 services); every env was up once before (compose files rendered,
// caches warm) and every round starts with all 20 down. Wall time until the last one returns.
//   node --import tsx bench/concurrent-up.ts [--envs 20] [--runs 3]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stateEnvs } from "../test/helpers/state-files.ts";
import { median, numberArg, printTable, sh, type Row } from "./lib.ts";

const root = new URL("..", import.meta.url).pathname;
const ENVS = numberArg("--envs", 20);
const RUNS = numberArg("--runs", 3);
const TARGET = 1.5;
const home = mkdtempSync(join(tmpdir(), "cilo-bench-cup-"));
const env = { ...process.env, CILO_HOME: home, NO_COLOR: "1" };
const ciloArgs = (...a: string[]) => [process.execPath, join(root, "dist/cilo.mjs"), ...a];
const cilo = (...a: string[]) => sh(process.execPath, [join(root, "dist/cilo.mjs"), ...a], { env });

/** Runs every command at once; the wall time until the last exits (any failure throws). */
async function together(commands: { argv: string[]; cwd?: string }[]): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    commands.map(
      ({ argv: [cmd, ...args], cwd }) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(cmd!, args, { env, cwd: cwd ?? root, stdio: ["ignore", "ignore", "pipe"] });
          let err = "";
          child.stderr.on("data", (d) => (err += d));
          child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")}: exit ${code}: ${err}`))));
        }),
    ),
  );
  return performance.now() - t0;
}

const names = Array.from({ length: ENVS }, (_, i) => `cup-${i}`);
const rows: Row[] = [];
try {
  cilo("init", "--dns-port", String(20000 + Math.floor(Math.random() * 20000)));
  for (const n of names) cilo("create", n, "--from", join(root, "examples/basic"));
  await together(names.map((n) => ({ argv: ciloArgs("up", `basic/${n}`) })));
  await together(names.map((n) => ({ argv: ciloArgs("down", `basic/${n}`) })));
  const records = stateEnvs(home);
  const compose = names.map((n) => {
    const rec = records[`basic/${n}`];
    const workspace = join(home, "envs/basic", n);
    return { project: rec.docker_name as string, file: join(workspace, ".cilo/compose.yml"), cwd: workspace };
  });
  const bare = (verb: string[]) => compose.map((c) => ({ argv: ["docker-compose", "-p", c.project, "-f", c.file, ...verb], cwd: c.cwd }));
  const ciloMs: number[] = [];
  const bareMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    ciloMs.push(await together(names.map((n) => ({ argv: ciloArgs("up", `basic/${n}`) }))));
    await together(names.map((n) => ({ argv: ciloArgs("down", `basic/${n}`) })));
    bareMs.push(await together(bare(["up", "-d", "--remove-orphans"])));
    await together(bare(["down", "--remove-orphans"]));
    console.log(`round ${i + 1}: ${ENVS} cilo up ${ciloMs[i]!.toFixed(0)} ms, ${ENVS} docker-compose up -d ${bareMs[i]!.toFixed(0)} ms`);
  }
  rows.push({
    what: `${ENVS} cilo up at once (examples/basic, 3 services each)`,
    value: median(ciloMs),
    unit: "ms",
    versus: `${ENVS} docker-compose up -d at once, same files`,
    base: median(bareMs),
    target: `≤ ${TARGET}×`,
    ok: median(ciloMs) <= TARGET * median(bareMs),
  });
} finally {
  await together(names.map((n) => ({ argv: ciloArgs("destroy", `basic/${n}`, "--force") }))).catch((e) => console.error(String(e)));
  sh(process.execPath, [join(root, "dist/cilo.mjs"), "dns", "stop"], { env });
  rmSync(home, { recursive: true, force: true });
}
printTable(`concurrent up (median of ${RUNS} alternated rounds)`, rows);
