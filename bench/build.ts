// What two build-time choices of scripts/build.mjs buy, each against the build without it, built
// into dist.bench-<name>/ and run alternately in the same run, median of N:
//   the generated workflow validator vs ajv compiling the schema at run time (--runtime-ajv):
//     cilo workflow validate <file>                          target: faster (< 1×)
//   the dockerode patch (lazyBundles) vs dockerode bundled whole (--eager-dockerode):
//     cilo --version, cilo list, cilo status <env> of a running env   target: report
//   node --import tsx bench/build.ts [--runs 20]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, numberArg, printTable, sh, timeMs, type Row } from "./lib.ts";

const root = new URL("..", import.meta.url).pathname;
const RUNS = numberArg("--runs", 20);
const variants = { ajv: "dist.bench-runtime-ajv", eager: "dist.bench-eager-dockerode" };
sh(process.execPath, [join(root, "scripts/build.mjs")]);
sh(process.execPath, [join(root, "scripts/build.mjs"), "--out", variants.ajv, "--runtime-ajv"]);
sh(process.execPath, [join(root, "scripts/build.mjs"), "--out", variants.eager, "--eager-dockerode"]);

const home = mkdtempSync(join(tmpdir(), "cilo-bench-build-"));
const env = { ...process.env, CILO_HOME: home, NO_COLOR: "1" };
const cli = (dist: string) => [process.execPath, join(root, dist, "cilo.mjs")];
const run = (cmd: string[]) => sh(cmd[0]!, cmd.slice(1), { env });
const envName = `bench-build-${process.pid}`;
const envRef = `basic/${envName}`;
const wf = join(home, "wf.yaml");
writeFileSync(
  wf,
  `version: 1\nname: bench\nvars:\n  who: world\nsteps:\n${Array.from({ length: 20 }, (_, i) => `  - id: s${i}\n    run: echo \${{ vars.who }}\n    timeout: 30s\n`).join("")}`,
);
try {
  run([...cli("dist"), "init", "--dns-port", String(20_000 + Math.floor(Math.random() * 20_000))]);
  run([...cli("dist"), "create", envName, "--from", join(root, "examples/basic")]);
  run([...cli("dist"), "up", envRef, "--wait"]);

  const commands = {
    validate: [...cli("dist"), "workflow", "validate", wf],
    validateAjv: [...cli(variants.ajv), "workflow", "validate", wf],
    version: [...cli("dist"), "--version"],
    versionEager: [...cli(variants.eager), "--version"],
    list: [...cli("dist"), "list"],
    listEager: [...cli(variants.eager), "list"],
    status: [...cli("dist"), "status", envRef],
    statusEager: [...cli(variants.eager), "status", envRef],
  };
  const names = Object.keys(commands) as (keyof typeof commands)[];
  for (const k of names) run(commands[k]); // warm the page cache
  const times = new Map(names.map((k) => [k, [] as number[]]));
  for (let i = 0; i < RUNS; i++) {
    for (const k of names) times.get(k)!.push(timeMs(() => run(commands[k])));
  }
  const m = Object.fromEntries(names.map((k) => [k, median(times.get(k)!)])) as Record<keyof typeof commands, number>;
  const eager = "dockerode bundled whole";
  const rows: Row[] = [
    {
      what: "cilo workflow validate (20 steps), generated validator",
      value: m.validate,
      unit: "ms",
      versus: "ajv compiling at run time",
      base: m.validateAjv,
      target: "< 1×",
      ok: m.validate < m.validateAjv,
    },
    { what: "cilo --version, dockerode patch", value: m.version, unit: "ms", versus: eager, base: m.versionEager, target: "report", ok: true },
    { what: "cilo list, dockerode patch", value: m.list, unit: "ms", versus: eager, base: m.listEager, target: "report", ok: true },
    { what: "cilo status <env>, dockerode patch", value: m.status, unit: "ms", versus: eager, base: m.statusEager, target: "report", ok: true },
  ];
  const spread = (k: keyof typeof commands) => {
    const s = [...times.get(k)!].sort((a, b) => a - b);
    return `${s[Math.floor(s.length / 4)]!.toFixed(0)}–${s[Math.floor((3 * s.length) / 4)]!.toFixed(0)}`;
  };
  for (const k of names) console.log(`${k}: median ${m[k].toFixed(0)} ms, quartiles ${spread(k)} ms`);
  printTable(`Build choices: median of ${RUNS} alternating runs`, rows);
} finally {
  spawnSync(process.execPath, [join(root, "dist/cilo.mjs"), "destroy", envRef, "--force"], { env, stdio: "ignore" });
  spawnSync(process.execPath, [join(root, "dist/cilo.mjs"), "dns", "stop"], { env, stdio: "ignore" });
  rmSync(home, { recursive: true, force: true });
  for (const dir of Object.values(variants)) rmSync(join(root, dir), { recursive: true, force: true });
}
