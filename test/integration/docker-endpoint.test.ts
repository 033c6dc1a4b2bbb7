// One Docker engine for dockerode and the compose CLI (security issue, items 6 and 9): cilo resolves
// the endpoint once (DOCKER_HOST, DOCKER_CONTEXT, the current context of the Docker config, the
// default socket) and hands it to both, so `up` and `status`/`destroy` can never look at different
// engines; an engine that dies during `up` is exit 3 with one line.
//
// Test bed: a second engine in a network namespace (scripts/test-second-engine.sh). `cilo-e2` is
// started if it does not answer and LEFT RUNNING (starting it costs ~20 s; other test files reuse
// it). The dying-engine test stops an engine, so it uses its own, `cilo-e3` (10.213.78.0/24),
// started here and purged at the end, never the shared one.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, repoRoot, startCilo, tempDir, type CliResult } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";
import { until } from "../helpers/until.ts";

const SCRIPT = join(repoRoot, "scripts/test-second-engine.sh");
const E2 = "unix:///var/run/cilo-e2.sock";
const E3 = { CILO_E2_NAME: "cilo-e3", CILO_E2_NET: "10.213.78" };
const E3_HOST = "unix:///var/run/cilo-e3.sock";
const suffix = Math.random().toString(36).slice(2, 7);
const home = tempDir("cilo-ep-");
const work = tempDir("cilo-ep-src-");
const dockerConfig = join(work, "docker-config");
let e3Started = false;

function engine(action: string, env: Record<string, string> = {}): void {
  const r = spawnSync("bash", [SCRIPT, action], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000 });
  assert.is(r.status, 0, `test-second-engine.sh ${action} → ${r.status}\n${r.stdout}\n${r.stderr}`);
}

/** `docker ps -a` names of the project's containers on an engine (the main one: the runner's own). */
function containers(project: string, host?: string, running = false): string[] {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (host) {
    env["DOCKER_HOST"] = host;
    delete env["DOCKER_CONTEXT"];
  }
  const out = execFileSync("docker", ["ps", ...(running ? [] : ["-a"]), "--filter", `label=cilo.project=${project}`, "--format", "{{.Names}}"], {
    env,
    encoding: "utf8",
  });
  return out.split("\n").filter(Boolean).sort();
}

/** Removes what a failed run left of the project on either engine (only its own labelled resources). */
function leftovers(project: string): void {
  for (const host of [E2, undefined]) {
    const env: NodeJS.ProcessEnv = { ...process.env, ...(host ? { DOCKER_HOST: host } : {}) };
    delete env["DOCKER_CONTEXT"];
    for (const c of containers(project, host)) spawnSync("docker", ["rm", "-f", "-v", c], { env });
    const nets = execFileSync("docker", ["network", "ls", "-q", "--filter", `label=cilo.project=${project}`], { env, encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
    for (const n of nets) spawnSync("docker", ["network", "rm", n], { env });
  }
}

function project(name: string, compose: string): string {
  const dir = join(work, name);
  mkdirSync(join(dir, ".cilo"), { recursive: true });
  writeFileSync(join(dir, "compose.yml"), compose);
  writeFileSync(join(dir, ".cilo", "config.yml"), `project: ${name}\n`);
  return dir;
}

function ok(r: CliResult, what: string): CliResult {
  assert.is(r.code, 0, `cilo ${what} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

const TWO_SERVICES = `services:
  web:
    image: cilo-test/busybox:latest
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
  worker:
    image: cilo-test/busybox:latest
    command: ["sleep", "600"]
`;

test.before(() => {
  engine("start");
  // A Docker config of the test's own with one context, cilo-e2, made by the docker CLI.
  mkdirSync(dockerConfig, { recursive: true });
  execFileSync("docker", ["context", "create", "cilo-e2", "--docker", `host=${E2}`], { env: { ...process.env, DOCKER_CONFIG: dockerConfig }, stdio: "ignore" });
});

test.before(async () => {
  ok(cilo(["init", "--dns-port", String(await freePort())], { home }), "init");
});

for (const via of ["DOCKER_CONTEXT", "currentContext"] as const) {
  test(`selected only through ${via}, up/status/destroy all use the context's engine`, () => {
    const name = `ep-${via === "DOCKER_CONTEXT" ? "env" : "cur"}-${suffix}`;
    const envName = via === "DOCKER_CONTEXT" ? "by-env" : "by-current";
    const dir = project(name, TWO_SERVICES);
    writeFileSync(join(dockerConfig, "config.json"), JSON.stringify(via === "currentContext" ? { currentContext: "cilo-e2" } : {}));
    const env = { DOCKER_HOST: "", DOCKER_CONFIG: dockerConfig, DOCKER_CONTEXT: via === "DOCKER_CONTEXT" ? "cilo-e2" : "" };
    try {
      ok(cilo(["create", envName], { home, cwd: dir, env }), "create");
      ok(cilo(["up", envName], { home, cwd: dir, env }), "up");
      const homeId = JSON.parse(readFileSync(join(home, "state.json"), "utf8")).home_id;
      assert.equal(containers(name, E2, true), [`cilo_${homeId}_${name}_${envName}_web_1`, `cilo_${homeId}_${name}_${envName}_worker_1`]);
      assert.equal(containers(name), [], "nothing on the main engine");
      const status = JSON.parse(ok(cilo(["status", envName, "--json"], { home, cwd: dir, env }), "status").stdout);
      assert.is(status.status, "running");
      assert.equal(
        status.services.map((s: { name: string; state: string }) => `${s.name}:${s.state}`),
        ["web:running", "worker:running"],
      );
      const doctor = JSON.parse(cilo(["doctor", "--json"], { home, cwd: dir, env }).stdout);
      const check = doctor.checks.find((c: { name: string }) => c.name === "Docker engine");
      const source = via === "DOCKER_CONTEXT" ? "DOCKER_CONTEXT cilo-e2" : "context cilo-e2";
      assert.ok(check?.ok && check.detail.includes(`${E2} (${source})`), JSON.stringify(check));
      ok(cilo(["destroy", envName, "--force"], { home, cwd: dir, env }), "destroy");
      assert.equal(containers(name, E2), [], "destroy removed them from the second engine");
    } finally {
      cilo(["destroy", envName, "--force"], { home, cwd: dir, env });
      leftovers(name);
    }
  });
}

test("a Docker context that does not exist: exit 3, one line naming it", () => {
  const dir = project(`ep-none-${suffix}`, TWO_SERVICES);
  ok(cilo(["create", "missing"], { home, cwd: dir }), "create");
  try {
    noContext(dir);
  } finally {
    cilo(["destroy", "missing", "--force"], { home, cwd: dir });
    leftovers(`ep-none-${suffix}`);
  }
});

function noContext(dir: string): void {
  for (const env of [
    { DOCKER_HOST: "", DOCKER_CONFIG: dockerConfig, DOCKER_CONTEXT: "cilo-nope" },
    { DOCKER_HOST: "", DOCKER_CONFIG: join(work, "other-config"), DOCKER_CONTEXT: "" },
  ]) {
    if (!env.DOCKER_CONTEXT) {
      mkdirSync(env.DOCKER_CONFIG, { recursive: true });
      writeFileSync(join(env.DOCKER_CONFIG, "config.json"), JSON.stringify({ currentContext: "cilo-nope" }));
    }
    for (const args of [
      ["up", "missing"],
      ["status", "missing"],
    ]) {
      const r = cilo(args, { home, cwd: dir, env });
      assert.is(r.code, 3, `${args[0]}: ${r.stderr}`);
      const first = r.stderr.split("\n")[0]!;
      assert.match(first, /^cilo: The Docker context "cilo-nope" \(from .*\) does not exist$/);
      assert.not.match(r.stderr, /Traceback|at .*\.m?js:\d+/);
    }
  }
}

test("the engine stops answering during up: exit 3, one line, no traceback", async () => {
  engine("start", E3);
  e3Started = true;
  const name = `ep-lost-${suffix}`;
  // `db` never becomes healthy within the test (first check after 120 s), so compose keeps waiting
  // to start `app`, polling the engine; the engine is stopped meanwhile.
  const dir = project(
    name,
    `services:
  db:
    image: cilo-test/busybox:latest
    command: ["sleep", "600"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 120s
      start_period: 120s
  app:
    image: cilo-test/busybox:latest
    command: ["sleep", "600"]
    depends_on:
      db:
        condition: service_healthy
`,
  );
  const env = { DOCKER_HOST: E3_HOST, DOCKER_CONTEXT: "" };
  ok(cilo(["create", "lost"], { home, cwd: dir, env }), "create");
  const up = startCilo(["up", "lost"], { home, cwd: dir, env });
  await until("db runs on cilo-e3", () => containers(name, E3_HOST, true).length > 0, { timeoutMs: 60_000, stepMs: 300 }).catch((e) => {
    throw new Error(`${(e as Error).message}\n${up.stderr}`);
  });
  await new Promise((r) => setTimeout(r, 1500));
  engine("stop", E3);
  const r = await up.done;
  assert.is(r.code, 3, r.stderr);
  const lines = r.stderr
    .trimEnd()
    .split("\n")
    .filter((l) => l.startsWith("cilo:"));
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^cilo: The Docker engine stopped answering during up: \S/);
  assert.not.match(r.stderr, /Traceback|urllib3|File "/);
});

test.after(() => {
  if (e3Started) engine("purge", E3);
  cilo(["dns", "stop"], { home });
  removeDir(home);
  removeDir(work);
});

test.run();
