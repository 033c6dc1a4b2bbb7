// Workflows that create envs, against the real Docker engine, docker-compose and dnsmasq, through
// the real CLI: the example workflows, failure and interruption clean-up, --keep, every wait, the
// agent template, and `cilo run <command> <env>`.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, ciloAsync, removeDir, repoRoot, startCilo, tempDir } from "../helpers/cli.ts";
import { freePort, labelled } from "../helpers/docker.ts";
import { events } from "../helpers/events.ts";
import { alive, until } from "../helpers/until.ts";
import { stateEnvs } from "../helpers/state-files.ts";

const fixtures = join(repoRoot, "test/fixtures/engine");
const home = tempDir("cilo-wfe-home-");
const dirs: string[] = [home];
const made = new Set<string>();

function work(): string {
  const d = tempDir("cilo-wfe-");
  dirs.push(d);
  return d;
}

/** `<project>/<env>` of the env the run created, from its create step's outputs. */
function createdEnv(ev: any[]): string {
  const create = ev.find((e) => e.type === "step_end" && e.action === "create" && e.outcome === "success");
  assert.ok(
    create,
    `a create step succeeded:\n${ev
      .filter((e) => e.type === "step_end")
      .map((e) => JSON.stringify(e))
      .join("\n")}`,
  );
  const key = `${create.outputs.project}/${create.outputs.env}`;
  made.add(key);
  return key;
}

function assertGone(key: string): void {
  const env = key.split("/")[1]!;
  assert.equal(labelled("container", `cilo.env=${env}`), [], `containers of ${key}`);
  assert.equal(labelled("network", `cilo.env=${env}`), [], `networks of ${key}`);
  assert.not.ok(envKeys().includes(key), `${key} is still in state`);
}

function envKeys(): string[] {
  const r = cilo(["list", "--json"], { home });
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).map((e: any) => `${e.project}/${e.name}`);
}

test.before(async () => {
  const r = cilo(["init", "--dns-port", String(await freePort())], { home });
  assert.is(r.code, 0, r.stderr);
});

test("the example workflows run green; their run steps reach services by DNS name through cilo's dnsmasq", async () => {
  const [e2e, smoke] = await Promise.all([
    ciloAsync(["run", "workflows/basic-e2e.yaml", "--json"], { home, timeoutMs: 240_000 }),
    ciloAsync(["run", "workflows/basic-smoke.yaml", "--json"], { home, timeoutMs: 240_000 }),
  ]);
  for (const r of [e2e, smoke]) {
    const ev = events(r.stdout);
    const key = createdEnv(ev);
    assert.is(
      r.code,
      0,
      `${r.stderr}\n${ev
        .filter((e) => e.type === "step_end" && e.outcome !== "success")
        .map((e) => JSON.stringify(e))
        .join("\n")}`,
    );
    assert.ok(ev.filter((e) => e.type === "step_end").every((e) => e.outcome === "success"));
    assertGone(key);
  }
  const e2eEvents = events(e2e.stdout);
  const env = createdEnv(e2eEvents).split("/")[1];
  const page = e2eEvents.find((e) => e.type === "step_end" && e.id === "page");
  assert.equal(page.outputs, { title: "cilo basic" });
  assert.ok(
    e2eEvents.some((e) => e.type === "step_output" && e.line.startsWith(`web.${env}.test is 10.`)),
    "dig answered from cilo's dnsmasq",
  );
  const probes = events(smoke.stdout).filter((e) => e.type === "step_end" && e.action === "include");
  // Parallel children finish in any order.
  assert.equal(probes.map((p) => p.id).sort(), ["api", "web"]);
  assert.ok(
    probes.every((p) => /^10\.\d+\.\d+\.\d+$/.test(p.outputs.ip)),
    JSON.stringify(probes),
  );
});

test("a failing run step: exit 1, later steps skipped, failure() and always() steps ran, nothing left in Docker", () => {
  const r = cilo(["run", join(fixtures, "fail.yaml"), "--json"], { home });
  assert.is(r.code, 1, r.stderr);
  assert.equal(r.stderr.trimEnd().split("\n"), ['cilo: The workflow fail failed: step 4 "failing tests" failed: exited with code 1']);
  const ev = events(r.stdout);
  const key = createdEnv(ev);
  const outcome = (path: string) => ev.find((e) => e.type === "step_end" && e.path === path).outcome;
  assert.equal(["1", "2", "3", "4", "5", "6", "7"].map(outcome), ["success", "success", "success", "failure", "skipped", "success", "success"]);
  assert.ok(ev.some((e) => e.type === "step_output" && e.path === "4" && e.stream === "stderr" && e.line === "1 test failed"));
  assert.ok(ev.some((e) => e.type === "step_output" && e.path === "6" && e.line === `reporting the failure of ${key.split("/")[1]}`));
  assert.not.ok(
    ev.some((e) => e.type === "step_start" && e.path.startsWith("cleanup")),
    "the destroy step already removed the env",
  );
  assert.is(ev.at(-1).exit_code, 1);
  assert.equal(ev.at(-1).left_behind, []);
  assertGone(key);
});

test("SIGINT during a 60-second run step: its process tree is gone within 5 s, the env is destroyed, exit 130", async () => {
  const marks = work();
  const { child, done } = startCilo(["run", join(fixtures, "sigint.yaml"), "--json"], { home, env: { MARK_DIR: marks } });
  await until("the long step starts", () => existsSync(join(marks, "started")), { timeoutMs: 90_000 });
  const pids = readFileSync(join(marks, "pids"), "utf8").trim().split("\n").map(Number);
  assert.is(pids.length, 3);
  assert.ok(pids.every(alive));
  child.kill("SIGINT");
  const gone = await until("the step's process tree ends", () => !pids.some(alive), { timeoutMs: 5_000 });
  const { code, stdout, stderr } = await done;
  assert.is(code, 130, stderr);
  const ev = events(stdout);
  const key = createdEnv(ev);
  const long = ev.find((e) => e.type === "step_end" && e.path === "4");
  assert.is(long.outcome, "cancelled");
  assert.is(long.error, "interrupted by SIGINT");
  assert.is(ev.find((e) => e.type === "step_end" && e.path === "5").outcome, "skipped");
  assert.is(ev.find((e) => e.type === "step_end" && e.path === "6").outcome, "success");
  assert.is(ev.at(-1).outcome, "cancelled");
  assert.match(stderr, /^cilo: The workflow sigint was interrupted by SIGINT\n$/);
  assertGone(key);
  console.log(`    process tree gone ${gone} ms after SIGINT`);
});

test("an env the run created is destroyed at the end even without a destroy step; --keep keeps it and says how to get in", () => {
  const plain = cilo(["run", join(fixtures, "no-destroy.yaml"), "--json"], { home });
  assert.is(plain.code, 1, plain.stderr);
  const ev = events(plain.stdout);
  const key = createdEnv(ev);
  const cleanup = ev.find((e) => e.type === "step_end" && e.path === "cleanup.1");
  assert.is(cleanup.outcome, "success");
  assert.is(cleanup.title, `destroy ${key} (created by this run)`);
  assertGone(key);

  const kept = cilo(["run", join(fixtures, "no-destroy.yaml"), "--keep"], { home });
  assert.is(kept.code, 1, kept.stderr);
  const created = /Created (\S+)/.exec(kept.stdout)![1]!;
  made.add(created);
  assert.ok(envKeys().includes(created), kept.stdout);
  for (const hint of [`cilo status ${created}`, `cilo exec ${created} <service> sh`, `cd "$(cilo path ${created})"`, `cilo destroy ${created} --force`]) {
    assert.ok(kept.stdout.includes(hint), `missing hint: ${hint}\n${kept.stdout}`);
  }
  assert.is(stateEnvs(home)[created].owner_pid, undefined, "a kept env no longer dies with the run");
  assert.is(cilo(["destroy", created, "--force"], { home }).code, 0);
  assertGone(created);
});

test("wait: healthchecks, HTTP through cilo's DNS, TCP, a log line, an exit code; a crashed service fails the wait at once", () => {
  const r = cilo(["run", join(fixtures, "waits.yaml"), "--json"], { home });
  const ev = events(r.stdout);
  const key = createdEnv(ev);
  assert.is(
    r.code,
    0,
    `${r.stderr}\n${ev
      .filter((e) => e.type === "step_end")
      .map((e) => JSON.stringify(e))
      .join("\n")}`,
  );
  const end = (id: string) => ev.find((e) => e.type === "step_end" && e.id === id);
  const all = ev.find((e) => e.type === "step_end" && e.path === "4");
  assert.is(all.outcome, "success");
  assert.is(end("missing").outcome, "failure");
  assert.match(end("missing").error, /Timed out waiting until http:\/\/web\..+\/missing answers 200-399 \(last: status 404\)/);
  assert.is(end("crash").outcome, "failure");
  assert.match(end("crash").error, /Service "crasher" exited with code 3; last log lines:\n.*boom: cannot reach the database/);
  // Behaviour, not speed: the crash ends the wait before the wait's own 60 s timeout would.
  assert.ok(end("crash").duration_ms < 60_000, `the crash was noticed after ${end("crash").duration_ms} ms`);
  assert.ok(
    ev.some((e) => e.type === "step_output" && e.path === "8" && e.line === "quick web"),
    "exec printed the page",
  );
  assertGone(key);
});

test("the agent template: clone a git ref, run the agent in the env, keep its diff as an output and a patch file", () => {
  const dir = work();
  const repo = join(dir, "app");
  cpSync(join(fixtures, "quick"), repo, { recursive: true });
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { cwd: repo, encoding: "utf8" });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-qm", "initial");
  git("checkout", "-qb", "feature");
  const patch = join(dir, "agent.patch");
  const outputs = join(dir, "outputs");
  const r = cilo(
    [
      "run",
      "templates/agent.yaml",
      "--json",
      "--var",
      `repo=${repo}`,
      "--var",
      "ref=feature",
      "--var",
      'agent=echo "$AGENT_TASK" >> www/index.html && echo new > notes.txt',
      "--var",
      "task=add a line",
      "--var",
      `patch=${patch}`,
      "--outputs-file",
      outputs,
    ],
    { home },
  );
  const ev = events(r.stdout);
  const key = createdEnv(ev);
  assert.is(
    r.code,
    0,
    `${r.stderr}\n${ev
      .filter((e) => e.type === "step_end")
      .map((e) => JSON.stringify(e))
      .join("\n")}`,
  );
  const diff = readFileSync(patch, "utf8");
  assert.match(diff, /\+add a line/);
  assert.match(diff, /notes\.txt/);
  assert.not.match(diff, /\.cilo\//, "files cilo generated are not part of the change");
  const out = readFileSync(outputs, "utf8");
  assert.match(out, new RegExp(`^diff_patch=${patch}$`, "m"));
  assert.match(out, /^diff_files=notes\.txt www\/index\.html $/m);
  assert.match(out, /^diff_diff<<ghadelimiter_/m);
  assertGone(key);
});

test("cilo run <command> <env>: creates and starts the env, runs in its workspace with CILO_* set, returns the exit code", () => {
  const env = `run-${Math.random().toString(36).slice(2, 7)}`;
  made.add(`quick/${env}`);
  const script =
    'echo "$CILO_ENV|$CILO_PROJECT|$CILO_BASE_URL|$CILO_DNS_SUFFIX"; pwd; curl -sf "http://$(dig @127.0.0.1 -p "$CILO_DNS_PORT" +short "web.$CILO_ENV.$CILO_DNS_SUFFIX")/"; exit 7';
  const first = cilo(["run", script, env, "--from", join(fixtures, "quick")], { home });
  assert.is(first.code, 7, first.stderr);
  const [vars, cwd, ...page] = first.stdout.trimEnd().split("\n");
  assert.is(vars, `${env}|quick|http://quick.${env}.test|test`);
  assert.is(cwd, join(home, "envs", "quick", env));
  assert.match(page.join("\n"), /quick web/);
  const status = JSON.parse(cilo(["status", `quick/${env}`, "--json"], { home }).stdout);
  assert.is(status.status, "running");

  const record = () => stateEnvs(home)[`quick/${env}`];
  const before = record();
  const again = cilo(["run", `quick/${env}`, "--", "sh", "-c", `echo "it's $CILO_ENV"; exit 3`], { home });
  assert.is(again.code, 3, again.stderr);
  assert.is(again.stdout, `it's ${env}\n`);
  // A running env is used as it is: not brought up again (up would rewrite the record), only marked as used.
  const after = record();
  assert.is(after.updated_at, before.updated_at, "a running env is used as it is, not brought up again");
  assert.is.not(after.last_used_at, before.last_used_at, "the env is marked as used");

  const missing = cilo(["run", "true", `quick/${env}-nope`, "--no-create"], { home });
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /^cilo: No env "quick\/.+-nope" exists/);

  assert.is(cilo(["down", `quick/${env}`], { home }).code, 0);
  const noUp = cilo(["run", "echo $CILO_WORKSPACE", `quick/${env}`, "--no-up"], { home });
  assert.is(noUp.code, 0, noUp.stderr);
  assert.equal(labelled("container", `cilo.env=${env}`, "cilo.project=quick"), [], "--no-up started nothing");
  assert.is(cilo(["destroy", `quick/${env}`, "--force"], { home }).code, 0);
  assertGone(`quick/${env}`);
});

test.after(() => {
  for (const key of made) cilo(["destroy", key, "--force"], { home });
  cilo(["dns", "stop"], { home });
  for (const d of dirs) removeDir(d);
});

test.run();
