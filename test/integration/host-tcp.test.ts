// Envs on a host reached over the engine's TCP endpoint, without SSH (issue 17 item 3,
// docs/remote.md "Remote workspace"): the test bed's second engine at tcp://10.213.77.2:2375
// (scripts/test-remote.sh). Its workspace goes there as a tar through the engine's archive API into
// a helper container that bind-mounts the remote root: `create --on` a tcp:// host comes up with its
// bind mounts taken from <remote root>/<project>/<env> (mount source and content checked on the
// second engine), `cilo sync` after a local edit reaches the container and sends only what changed,
// a deletion propagates, `.ciloignore` lines stay here, no helper container is left, and destroy
// removes the remote workspace. Then the same over TLS: a TLS endpoint with client certificates
// (a CA, server and client certificates made here with openssl; a small TLS proxy in front of the
// engine, test/helpers/tls-proxy.mjs, since the bed's engine listens on plain TCP only).
//
// The namespace shares this machine's files, so the remote root is readable here too. The local
// engine is never needed: DOCKER_HOST points nowhere.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, refusedUnchanged, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";
import { shippedSchema } from "../helpers/schemas.ts";
import { BED_TCP as TCP, bedDocker as remoteDocker, bedContainer, initRemoteWorkspaceHome, startRemoteBed } from "../helpers/remote-bed.ts";
import { until } from "../helpers/until.ts";

const home = tempDir("cilo-hosttcp-");
const statePath = join(home, "state.json");
const project = tempDir("cilo-hosttcp-src-");
const certs = tempDir("cilo-hosttcp-tls-");
const ROOT = `/srv/cilo-remote-tcp-${process.pid}`;
const env = {
  DOCKER_HOST: "unix:///nonexistent/cilo-host-tcp-test.sock",
  DOCKER_CONTEXT: "",
  CILO_HELPER_IMAGE: "cilo-test/busybox:latest",
};
let proxy: ChildProcess | undefined;

const run = (args: string[], opts: { cwd?: string } = {}) => cilo(args, { home, env, timeoutMs: 240_000, ...opts });
function ok(args: string[], opts: { cwd?: string } = {}) {
  const r = run(args, opts);
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}${r.stderr}`);
  return r;
}
const homeId = () => JSON.parse(readFileSync(statePath, "utf8")).home_id as string;
/** Every container of this home on the remote engine, helpers included (running or not). */
const homeContainers = () =>
  remoteDocker(["ps", "-aq", "--filter", `label=cilo.home=${homeId()}`])
    .split("\n")
    .filter(Boolean);
const helpers = () =>
  remoteDocker(["ps", "-aq", "--filter", `label=cilo.home=${homeId()}`, "--filter", "label=cilo.helper"])
    .split("\n")
    .filter(Boolean);
const cat = (envName: string, path: string) => ok(["exec", envName, "web", "cat", path]).stdout;

test.before(async () => {
  startRemoteBed();
  await initRemoteWorkspaceHome(ok, project, "t1", TCP, ROOT);
});

test.after(() => {
  run(["destroy", "c1", "--force"]);
  run(["destroy", "s1", "--force"]);
  if (proxy?.pid) proxy.kill();
  removeDir(home);
  removeDir(project);
  removeDir(certs);
  rmSync(ROOT, { recursive: true, force: true });
});

test("create --on a tcp:// host, up: bind mounts come from <remote root>/<project>/<env>, pushed as tar through a helper that is gone after", () => {
  const created = JSON.parse(ok(["create", "c1", "--on", "t1", "--json"], { cwd: project }).stdout);
  const ws = `${ROOT}/${created.project}/c1`;
  assert.is(created.host, "t1");
  assert.is(created.remote_workspace, ws);
  assert.is(readFileSync(join(ws, "web/index.html"), "utf8"), readFileSync(join(project, "web/index.html"), "utf8"));
  assert.ok(existsSync(join(ws, ".cilo/sync-manifest.json")), "the manifest of the push is kept there");
  ok(["up", "c1", "--wait"], { cwd: project });
  const web = bedContainer(home, "c1", "web");
  assert.ok(web, "the web container runs on the remote engine");
  const mounts = JSON.parse(remoteDocker(["inspect", web, "--format", "{{json .Mounts}}"])) as { Source: string; Destination: string }[];
  assert.equal(
    mounts.map((m) => [m.Source, m.Destination]),
    [[`${ws}/web`, "/www"]],
  );
  assert.match(cat("c1", "/www/index.html"), "cilo basic example");
  assert.equal(helpers(), [], "no helper container is left on the host");
});

test("cilo sync: an edit reaches the container, only changed files are sent, deletions propagate, .ciloignore is honoured", () => {
  const status = JSON.parse(ok(["status", "c1", "--json"]).stdout);
  // A tcp://<IPv4> host is reached through its own gateway on its address (docs/remote.md "Names
  // of remote envs"; host-tcp-names.test.ts proves it); the gateway is off in this file, so none runs.
  assert.equal(status.reach, { via: "remote-gateway", running: false, address: "10.213.77.2", http_port: 80 });
  const local = status.workspace as string;
  const ws = status.remote_workspace as string;
  const apiBefore = statSync(join(ws, "api/items.json"));
  writeFileSync(join(local, "web/index.html"), "<h1>edited here</h1>\n");
  mkdirSync(join(local, "web/new/deep"), { recursive: true });
  writeFileSync(join(local, "web/new/deep/extra.txt"), "extra\n");
  writeFileSync(join(local, "web/debug.log"), "not for the host\n");
  writeFileSync(join(local, "web/keep.log"), "this one goes\n");
  assert.match(ok(["sync", "c1"]).stdout, /^Pushed .* → host t1:\/srv\/cilo-remote-tcp-\d+\/\S+\/c1 \(/);
  assert.is(cat("c1", "/www/index.html"), "<h1>edited here</h1>\n");
  assert.is(cat("c1", "/www/new/deep/extra.txt"), "extra\n");
  assert.not.ok(existsSync(join(ws, "web/debug.log")), ".ciloignore *.log is not pushed");
  assert.ok(existsSync(join(ws, "web/keep.log")), "!keep.log is");
  const apiAfter = statSync(join(ws, "api/items.json"));
  assert.is(apiAfter.ino, apiBefore.ino, "an unchanged file is not sent again (same inode: never replaced)");
  assert.equal(readFileSync(join(ws, ".cilo/sync-manifest.json"), "utf8").includes('"web/new/deep/extra.txt"'), true, "the manifest lists what was sent");
  rmSync(join(local, "web/new"), { recursive: true });
  rmSync(join(local, "web/keep.log"));
  ok(["sync", "c1"]);
  assert.not.ok(existsSync(join(ws, "web/new")), "a deleted file and its emptied folders are gone there");
  assert.not.ok(existsSync(join(ws, "web/keep.log")));
  assert.is(ok(["exec", "c1", "web", "ls", "/www"]).stdout.split("\n").filter(Boolean).sort().join(","), "index.html");
  assert.equal(readFileSync(join(ws, ".cilo/sync-manifest.json"), "utf8").includes("web/new"), false);
  assert.equal(helpers(), [], "no helper container is left on the host");
  // A manifest someone wrote on the host that names a path outside the workspace is ignored: the
  // push sends everything again and removes nothing outside.
  const outside = join(ROOT, "outside.txt");
  writeFileSync(outside, "not cilo's\n");
  writeFileSync(join(ws, ".cilo/sync-manifest.json"), JSON.stringify({ v: 1, entries: { "../../outside.txt": { t: "f", s: 1, m: 1, p: 420 } } }));
  ok(["sync", "c1"]);
  assert.is(readFileSync(outside, "utf8"), "not cilo's\n");
  assert.is(cat("c1", "/www/index.html"), "<h1>edited here</h1>\n");
});

test("--pull and run --remote on a host without SSH are exit 2, one line, state untouched", () => {
  refusedUnchanged(
    run,
    statePath,
    ["run", "true", "c1", "--remote"],
    2,
    /^cilo: host t1 \(tcp:\/\/10\.213\.77\.2:2375\) has no SSH: cilo run --remote needs an ssh:\/\/ host/,
  );
  refusedUnchanged(
    run,
    statePath,
    ["sync", "c1", "--pull"],
    2,
    /^cilo: host t1 \(tcp:\/\/10\.213\.77\.2:2375\) has no SSH: cilo sync --pull needs an ssh:\/\/ host/,
  );
});

test("destroy removes the remote workspace (and the emptied project folder) and every labelled container there", () => {
  const status = JSON.parse(ok(["status", "c1", "--json"]).stdout);
  const ws = status.remote_workspace as string;
  ok(["destroy", "c1", "--force"]);
  assert.not.ok(existsSync(ws), `${ws} is gone`);
  assert.not.ok(existsSync(join(ROOT, status.project)), "its emptied project folder too");
  assert.ok(existsSync(join(ROOT, "outside.txt")), "nothing else under the root is touched");
  assert.equal(homeContainers(), [], "no container of this home is left on the remote engine");
});

/** openssl, failing the test with its output. */
function openssl(args: string[]) {
  const r = spawnSync("openssl", args, { cwd: certs, encoding: "utf8" });
  assert.is(r.status, 0, `openssl ${args.join(" ")}: ${r.stderr}`);
}

test("over TLS (tcp:// with --tls-dir, client certificates): create --on, up, sync and destroy", async () => {
  // A CA, a server certificate for 127.0.0.1 and a client certificate, in the DOCKER_CERT_PATH layout.
  openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "1", "-subj", "/CN=cilo-test-ca"]);
  openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server-key.pem", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
  writeFileSync(join(certs, "server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca-key.pem",
    "-CAcreateserial",
    "-out",
    "server-cert.pem",
    "-days",
    "1",
    "-extfile",
    "server.ext",
  ]);
  openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "client.csr", "-subj", "/CN=cilo-client"]);
  writeFileSync(join(certs, "client.ext"), "extendedKeyUsage=clientAuth\n");
  openssl([
    "x509",
    "-req",
    "-in",
    "client.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca-key.pem",
    "-CAcreateserial",
    "-out",
    "cert.pem",
    "-days",
    "1",
    "-extfile",
    "client.ext",
  ]);
  const port = await freePort();
  proxy = spawn(process.execPath, [join(repoRoot, "test/helpers/tls-proxy.mjs"), String(port), certs, "10.213.77.2", "2375"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let said = "";
  proxy.stdout!.on("data", (b) => (said += b));
  proxy.stderr!.on("data", (b) => (said += b));
  await until("the TLS proxy listens", () => said.includes("listening"), { timeoutMs: 10_000 });
  const tls = `tcp://127.0.0.1:${port}`;
  // Without client certificates the endpoint refuses: it really checks them.
  const plain = spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], { env: { ...process.env, DOCKER_HOST: tls }, encoding: "utf8" });
  assert.not.equal(plain.status, 0, "the TLS endpoint answers no plain client");
  const added = ok(["host", "add", "s1", tls, "--tls-dir", certs, "--remote-root", ROOT]);
  assert.not.match(added.stderr, /plain TCP/);
  const created = JSON.parse(ok(["create", "s1", "--on", "s1", "--json"], { cwd: project }).stdout);
  const ws = `${ROOT}/${created.project}/s1`;
  ok(["up", "s1", "--wait"], { cwd: project });
  const web = bedContainer(home, "s1", "web");
  const mounts = JSON.parse(remoteDocker(["inspect", web, "--format", "{{json .Mounts}}"])) as { Source: string; Destination: string }[];
  assert.equal(
    mounts.map((m) => m.Source),
    [`${ws}/web`],
  );
  const tlsStatus = JSON.parse(ok(["status", "s1", "--json"]).stdout);
  // Its engine is reached at a loopback of this machine (the proxy): not an address a gateway of the
  // host could publish on, so no names or forwards here, and status says why.
  assert.is(shippedSchema("env")(tlsStatus), true, "status --json holds to the env schema");
  assert.is(tlsStatus.reach.via, "none");
  assert.match(tlsStatus.reach.why, /127\.0\.0\.1 is a loopback of this machine/);
  assert.equal(
    tlsStatus.services.flatMap((s: { urls: string[] }) => s.urls),
    [],
  );
  const local = tlsStatus.workspace as string;
  writeFileSync(join(local, "web/index.html"), "<h1>over TLS</h1>\n");
  ok(["sync", "s1"]);
  assert.is(ok(["exec", "s1", "web", "cat", "/www/index.html"]).stdout, "<h1>over TLS</h1>\n");
  ok(["destroy", "s1", "--force"]);
  assert.not.ok(existsSync(ws));
  assert.equal(homeContainers(), []);
  ok(["host", "rm", "s1"]);
});

test.run();
