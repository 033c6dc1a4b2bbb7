// `cilo up` says what it is waiting for and why, and ends with where each service answers
// (issue 14 item 4); `--wait --timeout` counts from when compose returns, not from the start of
// the build (item 4 / task B.3).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, tempDir } from "../helpers/cli.ts";
import { freePort, labelled } from "../helpers/docker.ts";
import { GATEWAY_TEST_ENV } from "../helpers/gateway.ts";

const rand = Math.random().toString(36).slice(2, 7);
const project = `upprog-${rand}`;
const slowImage = `cilo-test/upprog-${rand}:latest`;
const home = tempDir("cilo-upprog-");
const work = tempDir("cilo-upprog-src-");
const src = join(work, project);
const slowSrc = join(work, `${project}-slow`);

// api turns healthy ~3 s after it starts; db is a TCP service (a forward); web serves HTTP on 8080.
const compose = `services:
  api:
    image: cilo-test/busybox:latest
    command: ["sh", "-c", "sleep 3; touch /tmp/ok; sleep 3600"]
    healthcheck:
      test: ["CMD", "sh", "-c", "test -f /tmp/ok"]
      interval: 1s
      timeout: 2s
      retries: 60
  db:
    image: cilo-test/busybox:latest
    command: ["nc", "-ll", "-p", "5432", "-e", "cat"]
    expose: ["5432"]
  web:
    image: cilo-test/busybox:latest
    command: ["httpd", "-f", "-p", "8080", "-h", "/tmp"]
    expose: ["8080"]
`;

// A build that takes longer than the wait's timeout; the service is ready as soon as it runs.
const slowCompose = `services:
  slow:
    build: .
    image: ${slowImage}
    command: ["sleep", "3600"]
`;

let gatewayPort = 0;
const gatewayEnv = { ...GATEWAY_TEST_ENV, CILO_FORWARD_IMAGE: process.env["CILO_TEST_IMAGE"] ?? "cilo-test/busybox:latest" };

// The gateway on (its offline image): the `.localhost` URLs and the TCP forwards come with it.
function ok(args: string[], cwd = src, env: Record<string, string> = {}) {
  const r = cilo(args, { home, cwd, env: { ...gatewayEnv, ...env } });
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

test.before(async () => {
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, "docker-compose.yml"), compose);
  mkdirSync(slowSrc, { recursive: true });
  writeFileSync(join(slowSrc, "docker-compose.yml"), slowCompose);
  writeFileSync(join(slowSrc, "Dockerfile"), "FROM cilo-test/busybox:latest\nRUN sleep 6\n");
  let first: number;
  do first = await freePort();
  while (first > 65_000);
  gatewayPort = await freePort();
  ok([
    "init",
    "--dns-port",
    String(await freePort()),
    "--gateway-http-port",
    String(gatewayPort),
    "--gateway-https-port",
    String(await freePort()),
    "--forward-ports",
    `${first}-${first + 9}`,
  ]);
});

test.after(() => {
  cilo(["destroy", `${project}/e1`, "--force"], { home, cwd: src, env: gatewayEnv });
  cilo(["destroy", `${project}-slow/e2`, "--force"], { home, cwd: slowSrc, env: gatewayEnv });
  cilo(["dns", "stop"], { home });
  // This home's gateway and anything else it left (by its home id only).
  const id = JSON.parse(readFileSync(join(home, "state.json"), "utf8")).home_id as string;
  for (const c of spawnSync("docker", ["ps", "-aq", "--filter", `label=cilo.home=${id}`], { encoding: "utf8" })
    .stdout.split("\n")
    .filter(Boolean)) {
    spawnSync("docker", ["rm", "-f", c]);
  }
  spawnSync("docker", ["image", "rm", "-f", slowImage], { encoding: "utf8" });
  for (const d of [home, work]) removeDir(d);
});

test("up --wait names each service it waits for and why, then where each service answers", () => {
  ok(["create", "e1"]);
  const r = ok(["up", "e1", "--wait", "--timeout", "90s"], src, { CILO_VERBOSE: "1" });
  assert.match(r.stderr, /^waiting for api: starting \(health\)$/m, r.stderr);
  // compose has created every container when it returns: none is ever reported missing.
  assert.not.match(r.stderr, /no container/, r.stderr);
  assert.match(r.stdout, new RegExp(`^Up ${project}/e1: api `, "m"));
  assert.match(r.stdout, /^SERVICE\s+URL\s+TCP$/m, r.stdout);
  const lines = r.stdout.split("\n").map((l) => l.trim().split(/\s+/));
  const row = (service: string) => lines.find((l) => l[0] === service)?.slice(1);
  const gw = `e1.${project}.localhost:${gatewayPort}`;
  assert.equal(row("api"), [`http://api.${gw}/`, "http://api.e1.test/"], r.stdout);
  // web is the ingress (a conventional name): its short name too; .test on its own port.
  assert.equal(row("web"), [`http://web.${gw}/`, `http://${gw}/`, "http://web.e1.test:8080/"], r.stdout);
  // db is a TCP service: no HTTP URL, its forward's address.
  const db = row("db");
  assert.is(db?.length, 3, r.stdout);
  assert.match(db![0]!, /^127\.0\.0\.1:\d+$/);
  assert.equal(db!.slice(1), ["(→", "5432)"]);
  const status = JSON.parse(ok(["status", "e1", "--json"]).stdout) as { forwards: { service: string; host_port: number }[] };
  assert.is(`127.0.0.1:${status.forwards.find((f) => f.service === "db")?.host_port}`, db![0], "the address printed is the forward's");
});

test("up without a terminal or CILO_VERBOSE prints no waiting lines, only the result", () => {
  const r = ok(["up", "e1", "--wait"]);
  assert.not.match(r.stderr, /waiting for/);
  assert.match(r.stdout, /^api\s+http:\/\/api\.e1\./m, r.stdout);
});

test("--wait --timeout counts from when compose returns: a 6 s build does not use up a 3 s timeout", () => {
  ok(["create", "e2"], slowSrc);
  const t0 = Date.now();
  const r = ok(["up", "e2", "--build", "--wait", "--timeout", "3s"], slowSrc);
  assert.ok(Date.now() - t0 > 6_000, `the build took ${Date.now() - t0} ms, less than its sleep`);
  assert.match(r.stdout, /^slow\s+http:\/\/slow\.e2\./m, r.stdout);
});

test("the test's containers are gone after destroy", () => {
  ok(["destroy", "e1", "--force"]);
  ok(["destroy", "e2", "--force"], slowSrc);
  assert.equal(labelled("container", `cilo.project=${project}`), []);
  assert.equal(labelled("container", `cilo.project=${project}-slow`), []);
});

test.run();
