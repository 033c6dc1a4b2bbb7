// `cilo up` on Podman against the compose CLI's own `up -d` on Podman (issue 19): the same rendered
// file of examples/basic under the same project name, through the same Podman API socket (the one
// scripts/test-podman.sh starts), alternated, median of N. Target ≤ 1.1×.
// Run: node --import tsx bench/podman.ts [--runs 3]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alternateUps, numberArg, printTable, sh, type Row } from "./lib.ts";
import { stateEnvs } from "../test/helpers/state-files.ts";

const root = new URL("..", import.meta.url).pathname;
const RUNS = numberArg("--runs", 3);
const setup = spawnSync("bash", [join(root, "scripts/test-podman.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
const host = setup.stdout.trim().split("\n").pop() ?? "";
if (setup.status !== 0 || !host.startsWith("unix://")) throw new Error(`scripts/test-podman.sh failed (exit ${setup.status})`);
const home = mkdtempSync(join(tmpdir(), "cilo-bench-podman-"));
const env = { ...process.env, CILO_HOME: home, DOCKER_HOST: host, CILO_GATEWAY: "off" };
const cilo = (...a: string[]) => sh(process.execPath, [join(root, "dist/cilo.mjs"), ...a], { env });

const rows: Row[] = [];
try {
  cilo("init", "--dns-port", String(20000 + Math.floor(Math.random() * 20000)));
  cilo("create", "bench-pod", "--from", join(root, "examples/basic"));
  cilo("up", "basic/bench-pod", "--wait"); // warms the compose CLI and model caches
  cilo("down", "basic/bench-pod");
  const rec = stateEnvs(home)["basic/bench-pod"];
  const { cilo: cu, compose: bu } = alternateUps({
    cilo,
    env: "basic/bench-pod",
    workspace: rec.workspace,
    project: rec.docker_name,
    runs: RUNS,
    processEnv: env,
  });
  rows.push({
    what: "cilo up on Podman (examples/basic, 3 services)",
    value: cu,
    unit: "ms",
    versus: "docker-compose up -d on Podman, same file",
    base: bu,
    target: "≤ 1.1×",
    ok: cu <= 1.1 * bu,
  });
  cilo("destroy", "basic/bench-pod", "--force");
} finally {
  try {
    cilo("dns", "stop");
  } catch {
    /* not running */
  }
  rmSync(home, { recursive: true, force: true });
}
printTable(
  `podman (median of ${RUNS} alternated runs, ${sh("podman", ["--version"]).trim()}, docker-compose ${sh("docker-compose", ["version", "--short"]).trim()})`,
  rows,
);
