// The gateway where container IPs are unreachable (issue 12, task E): cilo on the host drives the
// second engine `cilo-e2` (scripts/test-second-engine.sh: a network namespace, tcp://10.213.77.2:2375)
// with the default `--routing auto`, which must pick gateway. The host reaches only what that engine publishes on its address, as
// with Docker Desktop and remote engines. Every request goes by name; curl's --resolve stands in
// for a resolver, mapping a name to the gateway's address and nothing else (never a container IP).
//
// `cilo-e2` is started if it does not answer and LEFT RUNNING (other test files reuse it).
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { GATEWAY_TEST_ENV, writeHttpdProject, gatewayIds, getByName, removeGateways } from "../helpers/gateway.ts";
import { BED_ADDR as ENGINE_ADDRESS, BED_DOCKER_ENV as dockerE2, BED_TCP as E2, bedScript } from "../helpers/remote-bed.ts";
import { pollValue } from "../helpers/until.ts";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ciloRunner, removeDir, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";

const home = tempDir("cilo-gwe-");
const work = tempDir("cilo-gwe-src-");
const project = `gwe-${Math.random().toString(36).slice(2, 7)}`;
const src = join(work, project);
const env = {
  ...GATEWAY_TEST_ENV,
  DOCKER_HOST: E2,
  DOCKER_CONTEXT: "",
};
let gwPort = 0;
/** GET by name; --resolve maps only that name to the gateway's address (the stand-in resolver). */
const byName = (name: string, address = ENGINE_ADDRESS) => getByName(name, gwPort, { address });
let dnsPort = 0;

const { run, ok } = ciloRunner({ home, cwd: src, env });

test.before(async () => {
  // Fails (does not skip) when the engine cannot be started: CI must not pass without it.
  bedScript("test-second-engine.sh", "start");
  writeHttpdProject(src, "source\n");
  gwPort = await freePort();
  dnsPort = await freePort();
  // Routing left at its default, auto: the probe must find that this host cannot reach the
  // engine's container IPs and answer .test names with the gateway's address.
  ok(["init", "--dns-port", String(dnsPort), "--gateway-http-port", String(gwPort)]);
  for (const e of ["a", "b"]) {
    ok(["create", e]);
    writeFileSync(join(ok(["path", e]).stdout.trim(), "www/index.html"), `page of env ${e}\n`);
  }
});

test.after(() => {
  for (const e of ["a", "b"]) run(["destroy", e, "--force"]);
  removeGateways(home, dockerE2);
  run(["dns", "stop"]);
  removeDir(home);
  removeDir(work);
});

test("env a's container IP does not give its page to the host (the topology under test)", () => {
  ok(["up", "a"]);
  const ip = JSON.parse(ok(["status", "a", "--json"]).stdout).services.find((s: { name: string }) => s.name === "web").ip as string;
  assert.ok(ip && ip !== ENGINE_ADDRESS, ip);
  // The address may be in use on the host's own engine (both engines allocate from cilo's pool):
  // what matters is that env a's page never comes back from it.
  const r = spawnSync("curl", ["-s", "--max-time", "2", `http://${ip}/`], { encoding: "utf8" });
  assert.is.not(r.stdout, "page of env a\n", `the container IP ${ip} answered from the host: not the topology this test is about`);
  // auto routing probed the gateway once its first env ran, and chose gateway.
  const doctor = run(["doctor"]).stdout;
  assert.match(doctor, /Routing\s+gateway: auto: this host cannot reach container IPs of tcp:\/\/10\.213\.77\.2:2375/, doctor);
});

test("two envs answer by name through the gateway published on the engine's address", async () => {
  ok(["up", "b"]);
  for (const e of ["a", "b"]) {
    const r = await pollValue(
      () => byName(`web.${e}.${project}.localhost`),
      (x) => x.status === 200,
    );
    assert.is(r.status, 200, `web.${e}: ${r.status} ${r.body}`);
    assert.is(r.body, `page of env ${e}\n`);
  }
  assert.is(byName(`web.a.${project}.localhost`, "127.0.0.1").status, 0, "nothing on the host's loopback: the gateway is on the engine's address");
});

test(".test names resolve through cilo's dnsmasq to the gateway's address (the engine's), and answer there", () => {
  const dig = spawnSync("dig", ["@127.0.0.1", "-p", String(dnsPort), "+short", "web.b.test"], { encoding: "utf8" });
  assert.is(dig.stdout.trim(), ENGINE_ADDRESS, dig.stdout + dig.stderr);
  assert.is(byName("web.b.test", dig.stdout.trim()).body, "page of env b\n");
});

test("a down env's name answers 503 naming the env and the command that starts it", () => {
  ok(["down", "b"]);
  const r = byName(`web.b.${project}.localhost`);
  assert.is(r.status, 503, r.body);
  assert.match(r.body, `cilo up ${project}/b`);
  assert.is(byName(`web.a.${project}.localhost`).body, "page of env a\n");
});

test("the gateway removed by hand is found and restored by cilo doctor --fix", async () => {
  const ids = gatewayIds(home, dockerE2);
  assert.is(ids.length, 1);
  execFileSync("docker", ["rm", "-f", ...ids], { env: dockerE2, stdio: "ignore" });
  assert.is(byName(`web.a.${project}.localhost`).status, 0, "nothing answers");
  assert.match(run(["doctor", "--json"]).stdout, "gateway-missing");
  ok(["doctor", "--fix"]);
  const r = await pollValue(
    () => byName(`web.a.${project}.localhost`),
    (x) => x.status === 200,
  );
  assert.is(r.body, "page of env a\n");
  assert.is(gatewayIds(home, dockerE2).length, 1);
});

test.run();
