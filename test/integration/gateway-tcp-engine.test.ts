// TCP forwards where container IPs are unreachable (issue 12 item 4, the Docker Desktop / remote
// engine topology): cilo on the host drives the second engine (scripts/test-second-engine.sh,
// tcp://10.213.77.2:2375), which has no route from the host to its containers; the forward is
// published on the engine's address and answers there.
//
// `cilo-e2` is started if it does not answer and left running (as docker-endpoint.test.ts does);
// the offline gateway image is loaded into it when missing (and left, like its busybox image).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";

const SCRIPT = join(repoRoot, "scripts/test-second-engine.sh");
const ENGINE_ADDR = "10.213.77.2";
const ENGINE = `tcp://${ENGINE_ADDR}:2375`;
const GATEWAY_IMAGE = process.env["CILO_TEST_GATEWAY_IMAGE"] ?? "cilo-test/caddy:latest";
const home = tempDir("cilo-gwtcp-e2-");
const work = tempDir("cilo-gwtcp-e2-src-");
const project = `gwtcp-e2-${Math.random().toString(36).slice(2, 7)}`;
const src = join(work, project);
const env = {
  DOCKER_HOST: ENGINE,
  DOCKER_CONTEXT: "",
  CILO_GATEWAY: "on",
  CILO_GATEWAY_IMAGE: GATEWAY_IMAGE,
  CILO_FORWARD_IMAGE: process.env["CILO_TEST_IMAGE"] ?? "cilo-test/busybox:latest",
};
let base = 0;

function run(args: string[]) {
  return cilo(args, { home, cwd: src, env });
}
function ok(args: string[]) {
  const r = run(args);
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stderr}`);
  return r;
}
function e2(args: string[]): string {
  const e: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: ENGINE };
  delete e["DOCKER_CONTEXT"];
  return execFileSync("docker", args, { env: e, encoding: "utf8" });
}

/** Connects, sends a line, and returns what came back within `ms` ("" when nothing connected). */
function exchange(host: string, port: number, line: string, ms = 3_000): Promise<string> {
  return new Promise((resolve) => {
    let got = "";
    const s = connect({ host, port, timeout: ms });
    s.setEncoding("utf8");
    const done = () => {
      s.destroy();
      resolve(got);
    };
    s.on("data", (d) => {
      got += d;
      if (got.includes(`${line}\n`)) done();
    });
    s.once("connect", () => s.write(`${line}\n`));
    s.once("timeout", done);
    s.once("error", done);
    s.once("close", done);
  });
}
async function echo(port: number, line: string, ms = 15_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const got = await exchange(ENGINE_ADDR, port, line);
    if (got.includes(`${line}\n`) || Date.now() > end) return got;
    await new Promise((r) => setTimeout(r, 300));
  }
}

test.before(async () => {
  // Fails (does not skip) when the main engine or the test bed is missing: CI must not pass without them.
  execFileSync("docker", ["info"], { stdio: "ignore" });
  const r = spawnSync("bash", [SCRIPT, "start"], { encoding: "utf8", timeout: 180_000 });
  assert.is(r.status, 0, `test-second-engine.sh start → ${r.status}\n${r.stderr}`);
  if (spawnSync("docker", ["image", "inspect", GATEWAY_IMAGE], { env: { ...process.env, DOCKER_HOST: ENGINE } }).status !== 0) {
    execFileSync("bash", ["-c", `docker save "$1" | DOCKER_HOST=${ENGINE} docker load >/dev/null`, "load", GATEWAY_IMAGE]);
  }
  mkdirSync(src, { recursive: true });
  writeFileSync(
    join(src, "compose.yml"),
    'services:\n  echo:\n    image: cilo-test/busybox:latest\n    command: ["nc", "-ll", "-p", "7000", "-e", "sh", "-c", "echo remote; exec cat"]\n    expose: ["7000"]\n    labels:\n      cilo.tcp: "true"\n',
  );
  base = await freePort();
  // A pool the tests on the main engine do not use (they take the default 10.224.0.0/12), so the
  // host has no other route to this env's addresses either.
  ok([
    "init",
    "--subnet-pool",
    "10.251.0.0/16",
    "--dns-port",
    String(await freePort()),
    "--gateway-http-port",
    String(await freePort()),
    "--gateway-https-port",
    String(await freePort()),
    "--forward-ports",
    `${base}-${base + 4}`,
  ]);
  ok(["create", "x"]);
});

test.after(() => {
  run(["destroy", "x", "--force"]);
  const id = JSON.parse(execFileSync("cat", [join(home, "state.json")], { encoding: "utf8" })).home_id;
  for (const c of e2(["ps", "-aq", "--filter", `label=cilo.home=${id}`])
    .split("\n")
    .filter(Boolean))
    e2(["rm", "-f", c]);
  removeDir(home);
  removeDir(work);
});

test("on an engine whose container IPs the host cannot reach, the forward answers on the engine's address", async () => {
  ok(["up", "x"]);
  const status = JSON.parse(ok(["status", "x", "--json"]).stdout);
  assert.equal(status.forwards, [{ service: "echo", port: 7000, address: ENGINE_ADDR, host_port: base, variable: "CILO_ADDR_ECHO_7000" }]);
  const ip = status.services.find((s: { name: string }) => s.name === "echo").ip;
  assert.ok(ip, "the service has a container IP on that engine");
  // The topology under test: no route from the host to the container (only the default one; on
  // these machines that one answers any TCP connection itself, so "no echo" is the check).
  const route = execFileSync("ip", ["route", "get", ip], { encoding: "utf8" });
  assert.not.match(route, /dev (br-|docker|ciloe2)/, route);
  assert.not.match(await exchange(ip, 7000, "direct", 2_000), "remote", `the service answered at its container IP ${ip}`);
  assert.is(await echo(base, "via forward"), "remote\nvia forward\n");
  assert.match(ok(["run", 'echo "addr=$CILO_ADDR_ECHO_7000"', "x"]).stdout, `addr=${ENGINE_ADDR}:${base}`);
  ok(["destroy", "x"]);
  assert.not.match(await exchange(ENGINE_ADDR, base, "gone", 2_000), "remote", "destroy removed the forward");
});

test.run();
