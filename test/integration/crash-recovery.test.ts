// Crash safety (SPEC §2.3, issue 6): cilo is SIGKILLed at chosen failpoints and at random moments
// during create, up and destroy; after each, `doctor --fix` then `doctor` must report healthy and the
// state and Docker must agree.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { cpSync, existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, ciloCommand, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";
import { stateEnvs } from "../helpers/state-files.ts";

const home = tempDir("cilo-crash-");
const work = tempDir("cilo-crash-src-");
const suffix = Math.random().toString(36).slice(2, 7);
const project = `crash-${suffix}`;
const src = join(work, project);
cpSync(join(repoRoot, "examples/basic"), src, { recursive: true });
writeFileSync(join(src, ".cilo", "config.yml"), `project: ${project}\n`);

type Op = "create" | "up" | "destroy";
interface Kill {
  failpoint?: string;
  delayMs?: number;
}

function ok(args: string[]) {
  const r = cilo(args, { home, cwd: src });
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Runs cilo and SIGKILLs it at the failpoint (it kills itself) or after the delay; true when it died so. */
async function runKilled(args: string[], kill: Kill): Promise<boolean> {
  const [cmd, ...pre] = ciloCommand();
  const child = spawn(cmd!, [...pre, ...args], {
    cwd: src,
    env: { ...process.env, CILO_HOME: home, NO_COLOR: "1", ...(kill.failpoint ? { CILO_FAILPOINT: kill.failpoint } : {}) },
    stdio: "ignore",
  });
  const timer = kill.delayMs !== undefined ? setTimeout(() => child.kill("SIGKILL"), kill.delayMs) : undefined;
  const [, signal] = (await once(child, "exit")) as [number | null, string | null];
  clearTimeout(timer);
  return signal === "SIGKILL";
}

function envsOf(): Record<string, any> {
  return stateEnvs(home);
}

function labelledEnvs(kind: "container" | "network" | "volume"): string[] {
  const args = kind === "container" ? ["ps", "-a"] : [kind, "ls"];
  const out = execFileSync("docker", [...args, "--filter", `label=cilo.project=${project}`, "--format", '{{.Label "cilo.env"}}'], { encoding: "utf8" });
  return out.split("\n").filter(Boolean);
}

/** State and Docker agree: every labelled resource and workspace has an env, every running env runs. */
function assertConsistent(label: string): void {
  const envs = envsOf();
  for (const kind of ["container", "network", "volume"] as const) {
    for (const env of labelledEnvs(kind)) assert.ok(envs[`${project}/${env}`], `${label}: a ${kind} of ${env} has no state entry`);
  }
  const wsDir = join(home, "envs", project);
  for (const env of existsSync(wsDir) ? readdirSync(wsDir) : []) assert.ok(envs[`${project}/${env}`], `${label}: the workspace of ${env} has no state entry`);
  for (const rec of Object.values(envs)) {
    assert.not.ok(rec.operation, `${label}: ${rec.name} still has an operation marker`);
    assert.ok(["created", "running", "stopped", "failed"].includes(rec.status), `${label}: ${rec.name} is ${rec.status}`);
    assert.ok(existsSync(rec.workspace), `${label}: the workspace of ${rec.name} is gone`);
    if (rec.status !== "running") continue;
    const running = execFileSync(
      "docker",
      ["ps", "--filter", `label=cilo.project=${project}`, "--filter", `label=cilo.env=${rec.name}`, "--format", '{{.Label "cilo.service"}}'],
      { encoding: "utf8" },
    );
    for (const s of rec.services) assert.ok(running.split("\n").includes(s.name), `${label}: ${rec.name} is running but ${s.name} is not`);
  }
}

interface Result {
  n: number;
  op: Op;
  env: string;
  how: string;
  died: boolean;
  fixed: string[];
  ms: number;
}

const results: Result[] = [];

async function trial(op: Op, env: string, kill: Kill): Promise<void> {
  const n = results.length + 1;
  const how = kill.failpoint ? `failpoint ${kill.failpoint}` : `kill after ${kill.delayMs} ms`;
  const t0 = Date.now();
  const args = op === "create" ? ["create", env] : [op, `${project}/${env}`, ...(op === "destroy" ? ["--force"] : [])];
  const died = await runKilled(args, kill);
  if (kill.failpoint) assert.ok(died, `${op} ${env} did not reach the failpoint ${kill.failpoint}`);
  const fix = cilo(["doctor", "--fix", "--json"], { home, cwd: src });
  const label = `trial ${n} (${op} ${env}, ${how})`;
  assert.is(fix.code, 0, `${label}: doctor --fix → ${fix.code}\n${fix.stdout}\n${fix.stderr}`);
  const fixed = (JSON.parse(fix.stdout).fixed as { id: string }[]).map((f) => f.id);
  const check = cilo(["doctor", "--json"], { home, cwd: src });
  assert.is(check.code, 0, `${label}: doctor after the fix → ${check.code}\n${check.stdout}`);
  assert.is(JSON.parse(check.stdout).healthy, true);
  assertConsistent(label);
  const r = { n, op, env, how, died, fixed, ms: Date.now() - t0 };
  results.push(r);
  console.log(
    `  ${String(n).padStart(2)}. ${op.padEnd(7)} ${how.padEnd(38)} ${died ? "killed  " : "finished"}  fixed: ${fixed.join(", ") || "nothing"}  (${(r.ms / 1000).toFixed(1)} s)`,
  );
}

const rand = (lo: number, hi: number) => Math.round(lo + Math.random() * (hi - lo));

test.before(async () => {
  ok(["init", "--dns-port", String(await freePort())]);
});

test.after(() => {
  for (const key of Object.keys(envsOf())) cilo(["destroy", key, "--force"], { home });
  cilo(["dns", "stop"], { home });
  removeDir(home);
  removeDir(work);
});

test("23 SIGKILLs during create, up and destroy: doctor --fix restores consistency every time", async () => {
  const t0 = Date.now();
  const creates: Kill[] = [
    { failpoint: "state:locked" },
    { failpoint: "create:recorded" },
    { failpoint: "create:workspace" },
    { failpoint: "atomic-write:before-rename" },
    { failpoint: "state:records-written" }, // the record on disk, the index not yet naming it
    { delayMs: rand(150, 600) },
    { delayMs: rand(600, 1200) },
    { delayMs: rand(1200, 2500) },
  ];
  for (const [i, kill] of creates.entries()) await trial("create", `c${i + 1}`, kill);

  ok(["create", "u"]);
  const ups: Kill[] = [
    { failpoint: "up:before-compose" },
    { failpoint: "up:after-compose" },
    { failpoint: "atomic-write:before-rename" },
    { failpoint: "state:records-written" }, // the record says starting, the index not yet
    { delayMs: rand(300, 1000) },
    { delayMs: rand(1000, 2000) },
    { delayMs: rand(2000, 3000) },
    { delayMs: rand(3000, 5000) },
  ];
  for (const kill of ups) {
    if (envsOf()[`${project}/u`].status !== "created") ok(["down", "u"]);
    await trial("up", "u", kill);
  }

  const destroys: Kill[] = [
    { failpoint: "destroy:resources-removed" },
    { failpoint: "state:locked" },
    { failpoint: "atomic-write:before-rename" },
    { failpoint: "state:records-written" },
    { delayMs: rand(200, 1500) },
    { delayMs: rand(1500, 3500) },
    { delayMs: rand(3500, 7000) },
  ];
  for (const [i, kill] of destroys.entries()) {
    const env = `d${i + 1}`;
    ok(["create", env]);
    ok(["up", env]);
    await trial("destroy", env, kill);
  }

  const died = results.filter((r) => r.died).length;
  const repaired = results.filter((r) => r.fixed.length > 0).length;
  console.log(
    `  crash trials: ${results.length} (${died} killed mid-operation, ${results.length - died} finished before the kill); ` +
      `doctor --fix repaired something in ${repaired}; healthy after every one; ${((Date.now() - t0) / 1000).toFixed(0)} s in all`,
  );
  assert.is(results.length, 23);
  const cutShort = results.find((r) => r.op === "create" && r.how === "failpoint state:records-written")!;
  assert.ok(cutShort.fixed.includes("state-record-orphan"), `the create killed between its record and the index: ${cutShort.fixed.join(", ")}`);
});

test("cilo destroy finishes an env whose create or destroy was interrupted, without doctor", async () => {
  assert.ok(await runKilled(["create", "half-made"], { failpoint: "create:workspace" }));
  assert.ok(envsOf()[`${project}/half-made`]?.operation, "the interrupted create left its marker");
  ok(["destroy", "half-made", "--force"]);
  assert.not.ok(envsOf()[`${project}/half-made`]);
  assert.not.ok(existsSync(join(home, "envs", project, "half-made")));

  ok(["create", "half-gone"]);
  ok(["up", "half-gone"]);
  assert.ok(await runKilled(["destroy", `${project}/half-gone`, "--force"], { failpoint: "destroy:resources-removed" }));
  assert.is(envsOf()[`${project}/half-gone`]?.status, "destroying");
  ok(["destroy", "half-gone", "--force"]);
  assert.not.ok(envsOf()[`${project}/half-gone`]);
  assertConsistent("after destroy of interrupted envs");
  assert.is(cilo(["doctor"], { home, cwd: src }).code, 0);
});

test.run();
