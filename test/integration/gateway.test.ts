// The gateway (issue 12): envs answer by name at http://<service>.<env>.<project>.localhost:<port>/
// through one Caddy container per CILO_HOME, against the real engine with the offline caddy image.
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { curlGet, GATEWAY_TEST_ENV, writeHttpdProject, gatewayIds } from "../helpers/gateway.ts";
import { pollValue } from "../helpers/until.ts";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";

const home = tempDir("cilo-gw-");
const work = tempDir("cilo-gw-src-");
const suffix = Math.random().toString(36).slice(2, 7);
const project = `gw-${suffix}`;
const src = join(work, project);
const env = GATEWAY_TEST_ENV;
let gwPort = 0;
/** GET by name through the gateway (curl resolves *.localhost itself). */
const curl = (host: string, port = gwPort) => curlGet(`http://${host}:${port}/`);

function run(args: string[]) {
  return cilo(args, { home, cwd: src, env });
}
function ok(args: string[]) {
  const r = run(args);
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stderr}`);
  return r;
}

test.before(async () => {
  // Fails (does not skip) when the engine is missing: CI must not pass without it.
  execFileSync("docker", ["info"], { stdio: "ignore" });
  writeHttpdProject(src, "source\n");
  // Its containers get this home's CA (docs/routing.md, "The same URL inside the env").
  appendFileSync(join(src, "compose.yml"), '    labels:\n      cilo.ca: "true"\n');
  gwPort = await freePort();
  // A free HTTPS port too: the default 443 is shared by every test file running on this engine.
  ok(["init", "--dns-port", String(await freePort()), "--gateway-http-port", String(gwPort), "--gateway-https-port", String(await freePort())]);
  for (const e of ["a", "b"]) {
    ok(["create", e]);
    writeFileSync(join(ok(["path", e]).stdout.trim(), "www/index.html"), `page of env ${e}\n`);
  }
});

test.after(() => {
  for (const e of ["a", "b"]) run(["destroy", e, "--force"]);
  for (const id of gatewayIds(home)) spawnSync("docker", ["rm", "-f", id]);
  removeDir(home);
  removeDir(work);
});

test("two envs answer by name at web.<env>.<project>.localhost, each its own page; status lists the URLs", async () => {
  ok(["up", "a"]);
  ok(["up", "b"]);
  for (const e of ["a", "b"]) {
    const r = await pollValue(
      () => curl(`web.${e}.${project}.localhost`),
      (x) => x.status === 200,
    );
    assert.is(r.status, 200, `web.${e}: ${r.status} ${r.body}`);
    assert.is(r.body, `page of env ${e}\n`);
  }
  // The ingress names: <env>.<project>.localhost and the .test-style name by Host header.
  assert.is(curl(`a.${project}.localhost`).body, "page of env a\n");
  const viaTest = spawnSync("curl", ["-s", "-H", "Host: web.b.test", `http://127.0.0.1:${gwPort}/`], { encoding: "utf8" }).stdout;
  assert.is(viaTest, "page of env b\n");
  const unknown = curl(`nope.a.${project}.localhost`);
  assert.is(unknown.status, 404);
  const status = JSON.parse(ok(["status", "a", "--json"]).stdout);
  assert.ok(status.services[0].urls.includes(`http://web.a.${project}.localhost:${gwPort}/`), JSON.stringify(status.services[0].urls));
  assert.is(gatewayIds(home).length, 1);
  // auto routing (the default) probed the gateway: a local engine's container IPs answer here.
  assert.match(run(["doctor"]).stdout, /Routing\s+direct: auto: this host reaches container IPs/);
});

test("inside an env, its own .test names reach its services through the gateway (network aliases); cilo.ca mounts the CA and its bundle, with SSL_CERT_FILE & co.", () => {
  const r = ok(["exec", "a", "web", "--", "wget", "-q", "-O", "-", "http://web.a.test/"]);
  assert.is(r.stdout, "page of env a\n");
  // The CA certificate is mounted in a service labelled cilo.ca, and CILO_CA_CERT names it.
  assert.is(ok(["exec", "a", "web", "--", "printenv", "CILO_CA_CERT"]).stdout.trim(), "/run/cilo/ca.crt");
  assert.is(ok(["exec", "a", "web", "--", "cat", "/run/cilo/ca.crt"]).stdout, readFileSync(join(home, "gateway", "ca.crt"), "utf8"));
  // And the bundle (the host's CAs plus that root), with the variables that make commands run by
  // cilo exec, and the service's own processes, trust the gateway.
  const bundle = ok(["exec", "a", "web", "--", "cat", "/run/cilo/ca-bundle.pem"]).stdout;
  assert.is(bundle, readFileSync(join(home, "gateway", "ca-bundle.pem"), "utf8"));
  assert.ok(bundle.trimEnd().endsWith(readFileSync(join(home, "gateway", "ca.crt"), "utf8").trimEnd()), "the bundle ends with cilo's root");
  const vars = ok(["exec", "a", "web", "--", "sh", "-c", "echo $SSL_CERT_FILE $REQUESTS_CA_BUNDLE $CURL_CA_BUNDLE $NODE_EXTRA_CA_CERTS"]).stdout.trim();
  assert.is(vars, "/run/cilo/ca-bundle.pem /run/cilo/ca-bundle.pem /run/cilo/ca-bundle.pem /run/cilo/ca.crt");
});

test("a down env's name answers 503 naming the env and the command that starts it", () => {
  ok(["down", "b"]);
  const r = curl(`web.b.${project}.localhost`);
  assert.is(r.status, 503, r.body);
  assert.match(r.body, `cilo up ${project}/b`);
  assert.match(r.body, `${project}/b is stopped`);
  assert.is(curl(`web.a.${project}.localhost`).body, "page of env a\n", "the other env is untouched");
});

test("the gateway container removed by hand is found and restored by cilo doctor --fix", async () => {
  for (const id of gatewayIds(home)) execFileSync("docker", ["rm", "-f", id]);
  assert.is(curl(`web.a.${project}.localhost`).status, 0, "nothing answers");
  const found = run(["doctor", "--json"]);
  assert.match(found.stdout, "gateway-missing");
  ok(["doctor", "--fix"]);
  const r = await pollValue(
    () => curl(`web.a.${project}.localhost`),
    (x) => x.status === 200,
  );
  assert.is(r.body, "page of env a\n");
  assert.is(gatewayIds(home).length, 1);
});

test("a gateway port another program holds: one line naming the port and the init option, exit 3, no container left", async () => {
  const taken = await freePort();
  const server: Server = await new Promise((res) => {
    const s = createServer();
    s.listen(taken, "127.0.0.1", () => res(s));
  });
  try {
    ok(["init", "--gateway-http-port", String(taken)]);
    const r = run(["up", "a"]);
    assert.is(r.code, 3, r.stderr);
    const lines = r.stderr.trimEnd().split("\n");
    assert.is(lines.length, 1, r.stderr);
    assert.match(lines[0]!, `127.0.0.1:${taken}`);
    assert.match(lines[0]!, "cilo init --gateway-http-port");
    assert.is(gatewayIds(home).length, 0);
  } finally {
    await new Promise((res) => server.close(res));
  }
  ok(["init", "--gateway-http-port", String(gwPort)]);
  ok(["up", "a"]);
  assert.is(
    (
      await pollValue(
        () => curl(`web.a.${project}.localhost`),
        (x) => x.status === 200,
      )
    ).body,
    "page of env a\n",
  );
});

test("the gateway goes when no env runs any more (a stopped env needs none)", () => {
  assert.is(gatewayIds(home).length, 1);
  ok(["destroy", "a", "--force"]);
  assert.is(gatewayIds(home).length, 0, "b is stopped: nothing to proxy");
  ok(["destroy", "b", "--force"]);
  assert.is(gatewayIds(home).length, 0);
  assert.is(execFileSync("docker", ["network", "ls", "-q", "--filter", `name=${project}`], { encoding: "utf8" }).trim(), "", "no env network left behind");
});

test.run();
