// Names and TCP forwards of an env on a host without SSH (issue 17 item 4, docs/remote.md "Names of
// remote envs"), against the real test bed: the second engine `cilo-e2` in its network namespace,
// reached at tcp://10.213.77.2:2375 (scripts/test-remote.sh), whose container IPs this machine
// cannot route to. cilo runs a gateway and the env's TCP forward containers on that engine,
// published on 10.213.77.2 (the host's own address, which this machine reaches as it would over a
// mesh); this machine's gateway (the offline Caddy image on the local engine) sends the env's names
// there with their Host. Proven by name and address only:
// - curl http://web.<env>.<project>.localhost:<gateway port>/ gets the remote page;
// - the TCP echo answers at CILO_ADDR_ECHO_7000 (10.213.77.2:<port>), which cilo run exports;
// - status says "via remote gateway" (text and --json reach);
// - the .test name resolves through cilo's dnsmasq (dig) to this machine's gateway, and HTTP by that
//   name answers the remote page;
// - down releases the remote gateway and forward containers and their published ports; destroy
//   leaves nothing of this home on the remote engine.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ciloRunner, removeDir, tempDir } from "../helpers/cli.ts";
import { curlGet, GATEWAY_TEST_ENV, gatewayIds, getByName, initGatewayHome, removeGateways } from "../helpers/gateway.ts";
import {
  BED_ADDR as HOST_ADDR,
  BED_DOCKER_ENV as remoteDocker,
  BED_TCP as TCP,
  echoLine as echo,
  startRemoteBed,
  writeWebEchoProject,
} from "../helpers/remote-bed.ts";
import { shippedSchema } from "../helpers/schemas.ts";
import { pollValue } from "../helpers/until.ts";

const home = tempDir("cilo-tcpnames-");
const work = tempDir("cilo-tcpnames-src-");
const project = `tn-${Math.random().toString(36).slice(2, 7)}`;
const src = join(work, project);
const ROOT = `/srv/cilo-remote-tcpnames-${process.pid}`;
const env = {
  ...GATEWAY_TEST_ENV,
  DOCKER_CONTEXT: "",
  CILO_HELPER_IMAGE: "cilo-test/busybox:latest",
  CILO_FORWARD_IMAGE: "cilo-test/busybox:latest",
};
const page = `page of ${project} on t1\n`;
let gwPort = 0;
let dnsPort = 0;

const { run, ok } = ciloRunner({ home, cwd: src, env, timeoutMs: 240_000 });
const web = () => getByName(`web.n1.${project}.localhost`, gwPort);
const envSchema = shippedSchema("env");
/** `status --json`, which must hold to the shipped env schema (reach included). */
const statusJson = () => {
  const v = JSON.parse(ok(["status", "n1", "--json"]).stdout);
  assert.is(envSchema(v), true, `cilo.env.schema.json: ${JSON.stringify(envSchema.errors)}`);
  return v;
};
const homeId = () => JSON.parse(readFileSync(join(home, "state.json"), "utf8")).home_id as string;
/** This home's containers on the remote engine (`filter` more labels), running or not, as `name ports`. */
function remoteContainers(...filter: string[]): string[] {
  const r = spawnSync(
    "docker",
    ["ps", "-a", "--format", "{{.Names}} {{.Ports}}", "--filter", `label=cilo.home=${homeId()}`, ...filter.flatMap((f) => ["--filter", `label=${f}`])],
    { env: remoteDocker, encoding: "utf8" },
  );
  assert.is(r.status, 0, r.stderr);
  return r.stdout.split("\n").filter(Boolean);
}

test.before(async () => {
  startRemoteBed();
  writeWebEchoProject(src, page);
  ({ gwPort, dnsPort } = await initGatewayHome(ok));
  ok(["host", "add", "t1", TCP, "--remote-root", ROOT]);
  ok(["create", "n1", "--on", "t1"]);
});

test.after(() => {
  run(["destroy", "n1", "--force"]);
  removeGateways(home);
  removeGateways(home, remoteDocker, "t1");
  run(["dns", "stop"]);
  removeDir(home);
  removeDir(work);
  rmSync(ROOT, { recursive: true, force: true });
});

test("up: HTTP by name reaches the remote container through this machine's gateway and the host's, published on its address", async () => {
  ok(["up", "n1", "--wait"]);
  const r = await pollValue(web, (x) => x.status === 200);
  assert.is(r.status, 200, `web by name: ${r.status} ${r.body} ${r.stderr}`);
  assert.is(r.body, page);
  // The container IP is the remote engine's: it does not give the page to this machine.
  const s = statusJson();
  const ip = s.services.find((x: { name: string }) => x.name === "web").ip as string;
  assert.is.not(curlGet(`http://${ip}/`, ["--max-time", "2"]).body, page, `${ip} does not reach the remote container from here`);
  // Two gateways: this machine's, and the host's, published on the host's address only.
  assert.is(gatewayIds(home).length, 1, "the gateway runs on this machine's engine");
  const remoteGw = remoteContainers("cilo.gateway=true");
  assert.is(remoteGw.length, 1, remoteGw.join("\n"));
  assert.match(remoteGw[0]!, new RegExp(`^cilo_${homeId()}_gateway\\.t1 `), "named after its host");
  assert.match(remoteGw[0]!, `${HOST_ADDR}:${gwPort}->80/tcp`);
  // The host's gateway answers by name at its address too (the Host decides the route there).
  assert.is(getByName(`web.n1.${project}.localhost`, gwPort, { address: HOST_ADDR }).body, page);
});

test("status says via remote gateway, in text and in --json", () => {
  const s = statusJson();
  assert.equal(s.reach, { via: "remote-gateway", running: true, address: HOST_ADDR, http_port: gwPort });
  const table = ok(["status", "n1"]).stdout;
  assert.match(table, `reached via remote gateway ${HOST_ADDR}:${gwPort} on host t1 (running)`);
  assert.match(table, new RegExp(`URL \\(through the gateway, via remote gateway [0-9.:]+\\)[\\s\\S]*http://web\\.n1\\.${project}\\.localhost:${gwPort}/`));
  assert.match(table, /TCP FORWARD \(published by host t1\)/);
});

test("the TCP echo answers at its forward on the host's address; cilo run gets it as CILO_ADDR_ECHO_7000", async () => {
  const [f] = statusJson().forwards;
  assert.is(f.address, HOST_ADDR);
  assert.is(f.port, 7000);
  assert.is(f.variable, "CILO_ADDR_ECHO_7000");
  assert.match(remoteContainers("cilo.forward=true").join("\n"), `${HOST_ADDR}:${f.host_port}->7000/tcp`);
  const printed = ok(["run", "printenv CILO_ADDR_ECHO_7000", "n1"]).stdout.trim().split("\n").pop();
  assert.is(printed, `${HOST_ADDR}:${f.host_port}`);
  const [host, port] = printed!.split(":");
  assert.is(await echo(host!, Number(port), "hello over the mesh"), "remote-echo\nhello over the mesh\n");
});

test(".test name: cilo's dnsmasq answers this machine's gateway, and HTTP by that name gets the remote page", () => {
  const dig = spawnSync("dig", ["@127.0.0.1", "-p", String(dnsPort), "+short", "web.n1.test"], { encoding: "utf8" });
  assert.is(dig.stdout.trim(), "127.0.0.1", dig.stdout + dig.stderr);
  const r = getByName("web.n1.test", gwPort, { address: dig.stdout.trim() });
  assert.is(r.body, page, `${r.status} ${r.body}`);
});

test("doctor: the host's gateway and the env's forward removed on the host are remote-gateway-down; --fix brings both back, by name and port", async () => {
  const f = statusJson().forwards[0];
  const gwName = `cilo_${homeId()}_gateway.t1`;
  const fwdName = remoteContainers("cilo.forward=true")[0]!.split(" ")[0]!;
  for (const name of [gwName, fwdName]) {
    const rm = spawnSync("docker", ["-H", TCP, "rm", "-f", name], { env: remoteDocker, encoding: "utf8" });
    assert.is(rm.status, 0, rm.stderr);
  }
  assert.is.not(web().status, 200, "the name no longer answers: the host's gateway is gone");
  assert.is(await echo(HOST_ADDR, f.host_port, "x", 2_000), "", "nothing answers on the forward's port");
  const doctor = run(["doctor", "--json"]);
  assert.is(doctor.code, 1, doctor.stdout + doctor.stderr);
  const found = JSON.parse(doctor.stdout).findings.filter((x: { id: string }) => x.id === "remote-gateway-down");
  assert.is(found.length, 1, doctor.stdout);
  assert.is(found[0].subject, `${project}/n1`);
  assert.match(found[0].message, `the gateway ${gwName} on host t1 does not exist`);
  assert.match(found[0].message, `the TCP forward ${HOST_ADDR}:${f.host_port} -> echo:7000 is not running there`);
  const fixed = run(["doctor", "--fix", "--json"]);
  const report = JSON.parse(fixed.stdout);
  assert.ok(
    report.fixed.some((x: { id: string; subject: string }) => x.id === "remote-gateway-down" && x.subject === `${project}/n1`),
    fixed.stdout + fixed.stderr,
  );
  assert.equal(
    report.findings.filter((x: { id: string }) => x.id === "remote-gateway-down"),
    [],
  );
  assert.is(fixed.code, 0, fixed.stdout + fixed.stderr);
  assert.is((await pollValue(web, (x) => x.status === 200)).body, page);
  assert.is(statusJson().forwards[0].host_port, f.host_port, "the forward keeps its port");
  assert.is(await echo(HOST_ADDR, f.host_port, "back"), "remote-echo\nback\n");
  // Stopped (not removed) is found too, and started again.
  const stop = spawnSync("docker", ["-H", TCP, "stop", "-t", "1", gwName], { env: remoteDocker, encoding: "utf8" });
  assert.is(stop.status, 0, stop.stderr);
  const again = JSON.parse(run(["doctor", "--json"]).stdout).findings.filter((x: { id: string }) => x.id === "remote-gateway-down");
  assert.match(again[0]?.message ?? "", `the gateway ${gwName} on host t1 is exited`);
  assert.is(run(["doctor", "--fix"]).code, 0);
  assert.is((await pollValue(web, (x) => x.status === 200)).body, page);
});

test("down releases the host's gateway, the forward containers and their ports; up brings them back; destroy leaves nothing", async () => {
  const f = statusJson().forwards[0];
  ok(["down", "n1"]);
  assert.equal(remoteContainers(), [], "nothing of this home is left on the remote engine");
  assert.is(await echo(HOST_ADDR, f.host_port, "x", 2_000), "", "nothing answers on the forward's port");
  assert.is(curlGet(`http://${HOST_ADDR}:${gwPort}/`, ["--max-time", "2"]).status, 0, "nothing answers on the host's gateway port");
  assert.is(gatewayIds(home).length, 0, "no env runs: this machine's gateway is gone too");
  const dig = spawnSync("dig", ["@127.0.0.1", "-p", String(dnsPort), "+short", "web.n1.test"], { encoding: "utf8" });
  // No env runs: cilo's dnsmasq answers nothing for it (or has stopped, having nothing to serve).
  assert.not.match(dig.stdout, /^\d+\.\d+\.\d+\.\d+$/m, "a stopped env's .test name has no address");
  assert.is(statusJson().reach.running, false);
  ok(["up", "n1"]);
  assert.is((await pollValue(web, (x) => x.status === 200)).body, page);
  const again = statusJson().forwards[0];
  assert.is(again.host_port, f.host_port, "the forward keeps its port");
  assert.is(await echo(HOST_ADDR, again.host_port, "again"), "remote-echo\nagain\n");
  ok(["destroy", "n1"]);
  assert.equal(remoteContainers(), []);
  assert.is(gatewayIds(home).length, 0);
});

test.run();
