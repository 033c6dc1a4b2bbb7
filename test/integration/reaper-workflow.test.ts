// Issue 6 acceptance: SIGKILL of `cilo run workflow.yaml` during a long `run` step leaves nothing
// behind: the reaper removes the workflow's env (containers, network, volumes, workspace, state
// entry). How fast (the 10 s target, over 10 trials) is measured by bench/reaper.ts.
import { spawn } from "node:child_process";
import { appendFileSync, cpSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, ciloCommand, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { freePort, labelled } from "../helpers/docker.ts";
import { until } from "../helpers/until.ts";
import { stateEnvs } from "../helpers/state-files.ts";

const home = tempDir("cilo-reapwf-");
const work = tempDir("cilo-reapwf-src-");
const tag = Math.random().toString(36).slice(2, 6);
const project = `reapwf-${tag}`;
const src = join(work, "basic");
cpSync(join(repoRoot, "examples/basic"), src, { recursive: true });
writeFileSync(join(src, ".cilo", "config.yml"), `project: ${project}\n`);
appendFileSync(join(src, "compose.yml"), "    volumes:\n      - cachedata:/data\nvolumes:\n  cachedata: {}\n");
const workflow = join(work, "long.yaml");
writeFileSync(
  workflow,
  `version: 1
name: long
vars:
  env: ""
steps:
  - clone: { from: basic }
  - create: { env: "\${{ vars.env }}" }
  - up: {}
  - name: a long job
    run: sleep 120
  - destroy: {}
    if: always()
`,
);
const TRIALS = 2;

function leftovers(env: string): string[] {
  const left: string[] = [];
  if (labelled("container", `cilo.project=${project}`, `cilo.env=${env}`).length) left.push("containers");
  if (labelled("network", `cilo.project=${project}`, `cilo.env=${env}`).length) left.push("network");
  if (labelled("volume", `cilo.project=${project}`, `cilo.env=${env}`).length) left.push("volumes");
  if (existsSync(join(home, "envs", project, env))) left.push("workspace");
  if (stateEnvs(home)[`${project}/${env}`]) left.push("state entry");
  return left;
}

test.before(async () => {
  assert.is(cilo(["init", "--dns-port", String(await freePort())], { home }).code, 0);
});

test(`SIGKILL of cilo run during a long run step: the reaper removes the env (${TRIALS} trials)`, async () => {
  const [cmd, ...pre] = ciloCommand();
  const times: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const env = `k${i}-${tag}`;
    const child = spawn(cmd!, [...pre, "run", workflow, "--json", "--var", `env=${env}`], {
      env: { ...process.env, CILO_HOME: home },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the run step did not start: ${out}\n${err}`)), 120_000);
      child.stdout.on("data", (d) => {
        out += d;
        if (out.split("\n").some((l) => l.includes('"step_start"') && l.includes("a long job"))) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    assert.equal(leftovers(env).sort(), ["containers", "network", "state entry", "volumes", "workspace"].sort(), "the env is up before the kill");
    child.kill("SIGKILL");
    // 30 s only catches a reaper that never comes; how fast it is, bench/reaper.ts measures.
    const gone = await until(`trial ${i}: the env to be gone`, () => leftovers(env).length === 0, { timeoutMs: 30_000, stepMs: 100 }).catch((e) => {
      throw new Error(`${(e as Error).message}: ${leftovers(env).join(", ")}`);
    });
    times.push(gone);
  }
  console.log(`SIGKILL of cilo run (workflow) → env fully gone, ${TRIALS} trials: ${times.map((t) => (t / 1000).toFixed(2)).join(", ")} s`);
});

test.after(() => {
  for (let i = 0; i < TRIALS; i++) cilo(["destroy", `${project}/k${i}-${tag}`, "--force"], { home });
  cilo(["dns", "stop"], { home });
  removeDir(home);
  removeDir(work);
});
test.run();
