// Podman as an engine (issue 19), against the real Podman API service of the test bed (scripts/
// test-podman.sh; this file runs in the Podman pass only, CILO_TEST_ENGINE=podman): detection from
// /version, CILO_ENGINE and cilo init --engine, the env's recorded engine, and Podman's own errors
// with the hints that fix them (no service, the rlimit refusal of this sandbox).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";
import { podmanTestHost, testEngine } from "../helpers/engine.ts";
import { pollValue } from "../helpers/until.ts";
import { stateEnvs } from "../helpers/state-files.ts";

const home = tempDir("cilo-f19-");
const work = tempDir("cilo-f19-src-");
const project = `f19-${Math.random().toString(36).slice(2, 7)}`;
const src = join(work, project);
mkdirSync(src, { recursive: true });
// One named volume per env: the volume test needs something of each env's to survive or go.
writeFileSync(
  join(src, "compose.yml"),
  'services:\n  web:\n    image: cilo-test/busybox:latest\n    command: ["httpd", "-f", "-p", "80", "-h", "/www"]\n    volumes:\n      - data:/data\nvolumes:\n  data: {}\n',
);
const DOCKER = "unix:///var/run/docker.sock";

function run(args: string[], env: Record<string, string> = {}, at = home) {
  return cilo(args, { home: at, cwd: src, env });
}
function ok(args: string[], env: Record<string, string> = {}) {
  const r = run(args, env);
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

test.before(async () => {
  assert.is(testEngine, "podman", "this file runs in the Podman pass (CILO_TEST_ENGINE=podman)");
  ok(["init", "--dns-port", String(await freePort())]);
});

test.after(() => {
  for (const key of Object.keys(stateEnvs(home))) run(["destroy", key, "--force"]);
  run(["dns", "stop"]);
  removeDir(home);
  removeDir(work);
});

test("DOCKER_HOST at Podman's socket: detected from /_ping; up records engine podman; doctor names Podman", () => {
  ok(["create", "det"]);
  ok(["up", "det"]);
  assert.is(stateEnvs(home)[`${project}/det`].engine, "podman");
  const doctor = JSON.parse(run(["doctor", "--json"]).stdout);
  const check = doctor.checks.find((c: { name: string }) => c.name === "Docker engine");
  assert.ok(check.ok, JSON.stringify(check));
  assert.match(check.detail, new RegExp(`^Podman 4\\.\\d+\\.\\d+ \\(API 1\\.\\d+\\) at ${podmanTestHost().replace(/[/.]/g, "\\$&")} \\(DOCKER_HOST\\)$`));
});

test("a request Podman refuses names Podman in the error, not Docker", () => {
  // A gateway image that exists nowhere: its pull goes through Podman's API and is refused there.
  const r = run(["up", "det"], { CILO_GATEWAY: "on", CILO_GATEWAY_IMAGE: "cilo-test/no-such-gateway:1" });
  assert.is.not(r.code, 0, r.stdout);
  assert.match(r.stderr, /Podman refused the request/);
  assert.not.match(r.stderr, /Docker refused/);
});

test("the env runs on podman: down/up through Docker are refused (exit 3, one line) and change nothing", () => {
  const before = readFileSync(join(home, "state.json"), "utf8");
  for (const verb of ["down", "up", "destroy"]) {
    const r = run(verb === "destroy" ? [verb, "det", "--force"] : [verb, "det"], { DOCKER_HOST: DOCKER });
    assert.is(r.code, 3, `${verb}: ${r.stderr}`);
    assert.is(r.stderr.split("\n")[0], `cilo: The env ${project}/det runs on podman, but cilo is talking to docker`);
    assert.match(r.stderr, /hint: Point cilo at podman \(CILO_ENGINE=podman/);
  }
  assert.is(readFileSync(join(home, "state.json"), "utf8"), before);
  ok(["down", "det"]);
});

test("CILO_ENGINE=docker with DOCKER_HOST at Podman: refused before anything changes (exit 3)", () => {
  const r = run(["up", "det"], { CILO_ENGINE: "docker" });
  assert.is(r.code, 3, r.stderr);
  assert.is(r.stderr.split("\n")[0], `cilo: CILO_ENGINE says docker, but the engine at ${podmanTestHost()} (DOCKER_HOST) is Podman`);
  assert.match(r.stderr, /hint: Point DOCKER_HOST at the Docker engine/);
  const bad = run(["up", "det"], { CILO_ENGINE: "rkt" });
  assert.is(bad.code, 2);
  assert.is(bad.stderr.split("\n")[0], 'cilo: CILO_ENGINE "rkt" must be one of docker, podman');
});

test("compose is told the API version cilo's /_ping learned (COMPOSE_API_VERSION), so it does not ask Podman's slow /version", () => {
  // A docker-compose in front of the real one that notes what it was given.
  const seen = join(work, "compose-api-version.txt");
  const wrapper = join(work, "bin", "docker-compose");
  mkdirSync(join(work, "bin"), { recursive: true });
  const real = execFileSync("bash", ["-c", "command -v docker-compose"], { encoding: "utf8" }).trim();
  writeFileSync(wrapper, `#!/bin/sh\necho "\${COMPOSE_API_VERSION:-unset} $*" >> '${seen}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
  const api = /\(API (1\.\d+)\)/.exec(
    JSON.parse(run(["doctor", "--json"]).stdout).checks.find((c: { name: string }) => c.name === "Docker engine").detail,
  )![1]!;
  ok(["up", "det"], { CILO_COMPOSE: wrapper });
  ok(["down", "det"], { CILO_COMPOSE: wrapper });
  // Each run on the env's project (-p); not detecting the wrapper's version, which needs no engine.
  const runs = () =>
    readFileSync(seen, "utf8")
      .trim()
      .split("\n")
      .filter((l) => l.includes(" -p "))
      .map((l) => l.split(" ")[0]);
  assert.ok(runs().length >= 2, readFileSync(seen, "utf8"));
  assert.ok(
    runs().every((v) => v === api),
    readFileSync(seen, "utf8"),
  );
  const before = runs().length;
  // One of the user's own is kept.
  ok(["up", "det"], { CILO_COMPOSE: wrapper, COMPOSE_API_VERSION: "1.40" });
  ok(["down", "det"], { CILO_COMPOSE: wrapper });
  assert.is(runs()[before], "1.40", readFileSync(seen, "utf8"));
});

test("Podman's service not started: exit 3 and a hint that starts it (cilo init --engine podman, no DOCKER_HOST)", () => {
  const other = tempDir("cilo-f19-nosvc-");
  const first = tempDir("cilo-f19-nosvc-env-");
  try {
    const sock = join(other, "podman", "podman.sock");
    const dead = { DOCKER_HOST: `unix://${sock}`, CILO_ENGINE: "podman" };
    // An env to start (an env's engine is known once its record is read): init and create need no engine.
    assert.is(cilo(["init", "--dns-port", "25997"], { home: first, env: dead }).code, 0);
    const made = cilo(["create", "x", "--from", join(repoRoot, "examples/basic")], { home: first, env: dead });
    assert.is(made.code, 0, made.stderr);
    const r = cilo(["up", "x"], { home: first, env: dead });
    assert.is(r.code, 3, r.stderr);
    assert.is(r.stderr.split("\n")[0], `cilo: Podman's API service at unix://${sock} (DOCKER_HOST) does not answer (ENOENT)`);
    assert.is(
      r.stderr.split("\n")[1],
      `hint: Start Podman's API service: systemctl --user start podman.socket, or podman system service --time=0 unix://${sock} &`,
    );
    // Named by cilo init --engine podman and nothing else: Podman's default socket, not Docker's.
    const init = cilo(["init", "--engine", "podman", "--dns-port", "25999"], { home: other, env: { DOCKER_HOST: "" } });
    assert.is(init.code, 0, init.stderr);
    assert.match(init.stdout, /engine {7}podman/);
    assert.is(JSON.parse(readFileSync(join(other, "state.json"), "utf8")).config.engine, "podman");
    const doctor = JSON.parse(cilo(["doctor", "--json"], { home: other, env: { DOCKER_HOST: "" } }).stdout);
    const check = doctor.checks.find((c: { name: string }) => c.name === "Docker engine");
    const expected = process.getuid?.() === 0 ? "unix:///run/podman/podman.sock" : undefined;
    if (expected && !existsSync("/run/podman/podman.sock")) {
      assert.is(check.ok, false);
      assert.match(check.detail, new RegExp(`^Podman's API service at ${expected.replace(/[/.]/g, "\\$&")} \\(Podman's default socket\\) does not answer`));
    }
  } finally {
    removeDir(other);
    removeDir(first);
  }
});

test("destroying one env leaves another env's volumes alone (Podman ORs label filters of volume lists)", () => {
  ok(["create", "vol-a"]);
  ok(["create", "vol-b"]);
  ok(["up", "vol-a"]);
  ok(["up", "vol-b"]);
  ok(["down", "vol-b"]); // its volume stays, and no container holds it
  const volumesOf = (env: string) =>
    execFileSync("docker", ["volume", "ls", "-q", "--filter", `label=cilo.env=${env}`], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
  assert.is(volumesOf("vol-b").length, 1);
  ok(["destroy", "vol-a", "--force"]);
  assert.is(volumesOf("vol-a").length, 0);
  assert.is(volumesOf("vol-b").length, 1, "vol-b's volume survived the destroy of vol-a");
  ok(["destroy", "vol-b", "--force"]);
  assert.is(volumesOf("vol-b").length, 0);
});

test("Podman refusing the default ulimits (rlimit type 7, this sandbox): the failed up says how to fix it", async () => {
  // A second API service on the same storage, without the test bed's containers.conf fix.
  const dir = tempDir("cilo-f19-rlimit-");
  const conf = join(dir, "containers.conf");
  writeFileSync(conf, "[containers]\n");
  const sock = join(dir, "podman.sock");
  const svc = spawn("podman", ["system", "service", "--time=0", `unix://${sock}`], { env: { ...process.env, CONTAINERS_CONF: conf }, stdio: "ignore" });
  try {
    assert.ok(
      await pollValue(
        () => existsSync(sock),
        (v) => v,
        { timeoutMs: 60_000, stepMs: 200 },
      ),
      "the second podman service made its socket",
    );
    ok(["create", "rl"]);
    const r = run(["up", "rl"], { DOCKER_HOST: `unix://${sock}` });
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr.split("\n")[0]!, /^cilo: Starting .*\/rl failed: .*error setting rlimit type 7/);
    assert.match(
      r.stderr,
      /\nhint: Podman cannot set its default ulimits here: put `\[containers\]` and `default_ulimits = \[\]` in a containers\.conf, point CONTAINERS_CONF at it/,
    );
  } finally {
    svc.kill();
    await new Promise((r) => svc.once("close", r));
    run(["destroy", "rl", "--force"]);
    removeDir(dir);
  }
});

test.run();
