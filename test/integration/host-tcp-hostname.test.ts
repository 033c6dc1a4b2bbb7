// A tcp:// host given by DNS name (issue 17, docs/remote.md "Names of envs on a tcp:// host"), on
// the real test bed: the second engine at 10.213.77.2:2375 (scripts/test-remote.sh), reached as
// tcp://<name>:2375. The name resolves through the system resolver (glibc, /etc/hosts) without
// changing this machine's files: each cilo runs in a mount namespace of its own (`unshare
// --mount`) in which a hosts file of this test is bound over /etc/hosts, so cilo, the Docker client
// and compose all resolve it as they would a mesh name (`build1.tailnet.example`). Proven:
// - host add records what the name resolves to; host check publishes its gateway on that address;
// - curl by name reaches the remote page through both gateways; status says via remote gateway at
//   the resolved address; the host's gateway and the forward publish on it;
// - a command run where the name does not resolve stops with that as its one-line reason, and
//   the next one where it does resolves it again.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ciloCommand, type CliResult, removeDir, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";
import { curlGet, GATEWAY_TEST_ENV, gatewayIds } from "../helpers/gateway.ts";
import { shippedSchema } from "../helpers/schemas.ts";
import { pollValue } from "../helpers/until.ts";
import { BED_ADDR, BED_DOCKER_ENV, startRemoteBed, writeWebEchoProject } from "../helpers/remote-bed.ts";

const HOST_ADDR = BED_ADDR;
const tag = Math.random().toString(36).slice(2, 7);
const NAME = `cilo-e2-${tag}.test-bed`;
const home = tempDir("cilo-tcphostname-");
const work = tempDir("cilo-tcphostname-src-");
const project = `th-${tag}`;
const src = join(work, project);
const ROOT = `/srv/cilo-remote-tcphostname-${process.pid}`;
const env = {
  ...GATEWAY_TEST_ENV,
  DOCKER_CONTEXT: "",
  CILO_HELPER_IMAGE: "cilo-test/busybox:latest",
  CILO_FORWARD_IMAGE: "cilo-test/busybox:latest",
};
/** This machine's hosts file with NAME added (resolving), and without it (not resolving). */
const HOSTS_WITH = join(work, "hosts-with");
const HOSTS_WITHOUT = join(work, "hosts-without");
const page = `page of ${project} by name\n`;
let gwPort = 0;

/** cilo in a mount namespace whose /etc/hosts is `hosts`: the system resolver answers from it. */
function run(args: string[], hosts = HOSTS_WITH): CliResult {
  const r = spawnSync(
    "unshare",
    ["--mount", "--propagation", "private", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', hosts, ...ciloCommand(), ...args],
    { cwd: src, env: { ...process.env, CILO_HOME: home, NO_COLOR: "1", ...env }, encoding: "utf8", input: "", timeout: 240_000 },
  );
  return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}
function ok(args: string[], hosts?: string): CliResult {
  const r = run(args, hosts);
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}${r.stderr}`);
  return r;
}
const web = () => curlGet(`http://web.n1.${project}.localhost:${gwPort}/`);
const homeId = () => JSON.parse(readFileSync(join(home, "state.json"), "utf8")).home_id as string;
const hostRecord = () => JSON.parse(readFileSync(join(home, "state.json"), "utf8")).hosts.t2;
const remoteDocker = BED_DOCKER_ENV;
/** This home's containers on the remote engine, as `name ports`. */
function remoteContainers(): string[] {
  const r = spawnSync("docker", ["ps", "-a", "--format", "{{.Names}} {{.Ports}}", "--filter", `label=cilo.home=${homeId()}`], {
    env: remoteDocker,
    encoding: "utf8",
  });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.split("\n").filter(Boolean);
}

test.before(async () => {
  startRemoteBed();
  const system = readFileSync("/etc/hosts", "utf8");
  assert.is(spawnSync("getent", ["hosts", NAME]).status, 2, `${NAME} must not resolve outside the test's namespace`);
  writeFileSync(HOSTS_WITH, `${system}\n${HOST_ADDR} ${NAME}\n`);
  writeFileSync(HOSTS_WITHOUT, system);
  writeWebEchoProject(src, page);
  gwPort = await freePort();
  ok(["init", "--dns-port", String(await freePort()), "--gateway-http-port", String(gwPort), "--gateway-https-port", String(await freePort())]);
});

test.after(() => {
  run(["destroy", "n1", "--force"]);
  for (const id of gatewayIds(home)) spawnSync("docker", ["rm", "-f", id]);
  for (const id of gatewayIds(home, remoteDocker, "t2")) spawnSync("docker", ["rm", "-f", id], { env: remoteDocker });
  run(["dns", "stop"]);
  removeDir(home);
  removeDir(work);
  rmSync(ROOT, { recursive: true, force: true });
});

test("host add and host check: the name is resolved by the system resolver and its address is where the gateway publishes", () => {
  ok(["host", "add", "t2", `tcp://${NAME}:2375`, "--remote-root", ROOT]);
  const rec = hostRecord();
  assert.is(rec.address, `tcp://${NAME}:2375`, "the engine is still dialled by name");
  assert.equal([rec.resolved.name, rec.resolved.ipv4, rec.resolved.error], [NAME, HOST_ADDR, undefined]);
  const check = JSON.parse(ok(["host", "check", "t2", "--json"]).stdout);
  assert.is(shippedSchema("host-check")(check), true);
  assert.equal([check.endpoint, check.gateway.address, check.gateway.reach], [`tcp://${NAME}:2375`, HOST_ADDR, "direct"]);
});

test("an env on it answers by name through both gateways; its host's gateway and forward publish on the resolved address", async () => {
  ok(["create", "n1", "--on", "t2"]);
  ok(["up", "n1", "--wait"]);
  const r = await pollValue(web, (x) => x.status === 200);
  assert.is(r.body, page, `web by name: ${r.status} ${r.body} ${r.stderr}`);
  const s = JSON.parse(ok(["status", "n1", "--json"]).stdout);
  assert.equal(s.reach, { via: "remote-gateway", running: true, address: HOST_ADDR, http_port: gwPort });
  assert.is(s.forwards[0].address, HOST_ADDR);
  const remote = remoteContainers().join("\n");
  assert.match(remote, `${HOST_ADDR}:${gwPort}->80/tcp`);
  assert.match(remote, `${HOST_ADDR}:${s.forwards[0].host_port}->7000/tcp`);
});

test("where the name does not resolve, a command on the env stops with that reason; where it does again, it is resolved again", async () => {
  const r = run(["status", "n1"], HOSTS_WITHOUT);
  assert.is(r.code, 3, r.stdout + r.stderr);
  assert.match(r.stderr, `cilo: host t2 (tcp://${NAME}:2375): name failed: ${NAME} does not resolve to an IPv4 address (`);
  assert.equal([hostRecord().resolved.ipv4, typeof hostRecord().resolved.error], [undefined, "string"]);
  const s = JSON.parse(ok(["status", "n1", "--json"]).stdout);
  assert.equal(s.reach, { via: "remote-gateway", running: true, address: HOST_ADDR, http_port: gwPort });
  assert.is(hostRecord().resolved.ipv4, HOST_ADDR);
  assert.is((await pollValue(web, (x) => x.status === 200)).body, page);
  ok(["destroy", "n1"]);
  assert.equal(remoteContainers(), []);
});

test.run();
