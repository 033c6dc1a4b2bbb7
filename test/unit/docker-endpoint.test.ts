import { createHash } from "node:crypto";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { composeFailure, engineLostReason } from "../../src/core/compose/compose-cli.ts";
import { describeEndpoint, dockerodeOptions, dockerProcessEnv, resolveDockerEndpoint, type FileReader } from "../../src/core/docker-endpoint.ts";
import { CiloError } from "../../src/core/errors.ts";

const CONFIG = "/cfg";
const id = (name: string) => createHash("sha256").update(name).digest("hex");
const meta = (name: string, host: string, extra: Record<string, unknown> = {}) => ({
  [join(CONFIG, "contexts/meta", id(name), "meta.json")]: JSON.stringify({
    Name: name,
    Metadata: {},
    Endpoints: { docker: { Host: host, SkipTLSVerify: false, ...extra } },
  }),
});

function files(map: Record<string, string>): FileReader {
  return (p) => map[p];
}

const disk = files({
  [join(CONFIG, "config.json")]: JSON.stringify({ currentContext: "colima" }),
  ...meta("colima", "unix:///home/u/.colima/default/docker.sock"),
  ...meta("remote", "tcp://10.0.0.5:2376"),
  [join(CONFIG, "contexts/tls", id("remote"), "docker/ca.pem")]: "CA",
  ...meta("e2", "unix:///var/run/cilo-e2.sock"),
});

function fails(fn: () => unknown, exitCode: number, re: RegExp): void {
  try {
    fn();
    assert.unreachable("did not throw");
  } catch (e) {
    assert.instance(e, CiloError);
    assert.is((e as CiloError).exitCode, exitCode, (e as Error).message);
    assert.match((e as Error).message, re);
    assert.not.match((e as Error).message, /\n/);
  }
}

test("DOCKER_HOST first, then DOCKER_CONTEXT, then the current context, then the default socket", () => {
  assert.equal(resolveDockerEndpoint({ DOCKER_HOST: "tcp://h:2375", DOCKER_CONTEXT: "e2", DOCKER_CONFIG: CONFIG }, disk), {
    host: "tcp://h:2375",
    source: "DOCKER_HOST",
  });
  assert.equal(resolveDockerEndpoint({ DOCKER_CONTEXT: "e2", DOCKER_CONFIG: CONFIG }, disk), {
    host: "unix:///var/run/cilo-e2.sock",
    source: "DOCKER_CONTEXT",
    context: "e2",
  });
  assert.equal(resolveDockerEndpoint({ DOCKER_CONFIG: CONFIG }, disk), {
    host: "unix:///home/u/.colima/default/docker.sock",
    source: "context colima",
    context: "colima",
  });
  assert.equal(resolveDockerEndpoint({ DOCKER_CONFIG: "/empty" }, disk), { host: "unix:///var/run/docker.sock", source: "default" });
  assert.equal(resolveDockerEndpoint({ DOCKER_CONTEXT: "default", DOCKER_CONFIG: CONFIG }, disk).host, "unix:///var/run/docker.sock");
});

test("without DOCKER_CONFIG the config folder is ~/.docker", () => {
  const home = files({
    "/home/u/.docker/config.json": JSON.stringify({ currentContext: "e2" }),
    [join("/home/u/.docker/contexts/meta", id("e2"), "meta.json")]: JSON.stringify({ Endpoints: { docker: { Host: "ssh://me@box" } } }),
  });
  assert.equal(resolveDockerEndpoint({ HOME: "/home/u" }, home), { host: "ssh://me@box", source: "context e2", context: "e2" });
});

test("a context's TLS material and DOCKER_TLS_VERIFY/DOCKER_CERT_PATH reach compose's environment", () => {
  const ep = resolveDockerEndpoint({ DOCKER_CONTEXT: "remote", DOCKER_CONFIG: CONFIG }, disk);
  assert.equal(ep, {
    host: "tcp://10.0.0.5:2376",
    source: "DOCKER_CONTEXT",
    context: "remote",
    tlsPath: join(CONFIG, "contexts/tls", id("remote"), "docker"),
    tlsVerify: true,
  });
  // A CA bundle for python requests would replace the endpoint's CA in docker-compose 1.x: dropped.
  const env = dockerProcessEnv(
    { PATH: "/bin", DOCKER_CONTEXT: "remote", DOCKER_TLS_VERIFY: "1", REQUESTS_CA_BUNDLE: "/etc/b.crt", CURL_CA_BUNDLE: "/etc/b.crt" },
    ep,
  );
  assert.equal(env, { PATH: "/bin", DOCKER_HOST: "tcp://10.0.0.5:2376", DOCKER_CERT_PATH: ep.tlsPath, DOCKER_TLS_VERIFY: "1" });
  const plain = dockerProcessEnv(
    { DOCKER_CONTEXT: "e2", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/x", REQUESTS_CA_BUNDLE: "/b" },
    { host: "unix:///s", source: "default" },
  );
  assert.equal(plain, { DOCKER_HOST: "unix:///s", REQUESTS_CA_BUNDLE: "/b" }, "kept without TLS of the endpoint's own");
  const fromHost = resolveDockerEndpoint({ DOCKER_HOST: "tcp://h:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs" }, disk);
  assert.equal(fromHost, { host: "tcp://h:2376", source: "DOCKER_HOST", tlsPath: "/certs", tlsVerify: true });
});

test("dockerode gets every connection option, so its own DOCKER_HOST reading cannot mix in", () => {
  assert.equal(dockerodeOptions({ host: "unix:///var/run/cilo-e2.sock", source: "default" }, {}), {
    socketPath: "/var/run/cilo-e2.sock",
    host: undefined,
    port: undefined,
    protocol: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
  });
  const tcp = dockerodeOptions({ host: "tcp://10.213.77.2:2375", source: "DOCKER_HOST" }, {});
  assert.is(tcp["host"], "10.213.77.2");
  assert.is(tcp["port"], "2375");
  assert.is(tcp["protocol"], "http");
  assert.is(tcp["socketPath"], undefined);
  const tls = dockerodeOptions({ host: "tcp://h:2376", source: "DOCKER_HOST", tlsPath: "/c", tlsVerify: true }, {}, (p) => Buffer.from(p));
  assert.is(tls["protocol"], "https");
  assert.is(String(tls["ca"]), "/c/ca.pem");
  const ssh = dockerodeOptions({ host: "ssh://me@box:2222", source: "DOCKER_HOST" }, {});
  assert.equal([ssh["protocol"], ssh["host"], ssh["port"], ssh["username"]], ["ssh", "box", "2222", "me"]);
});

test("a context that does not exist: exit 3, naming it and where it came from", () => {
  fails(
    () => resolveDockerEndpoint({ DOCKER_CONTEXT: "nope", DOCKER_CONFIG: CONFIG }, disk),
    3,
    /^The Docker context "nope" \(from DOCKER_CONTEXT\) does not exist$/,
  );
  const cur = files({ [join(CONFIG, "config.json")]: JSON.stringify({ currentContext: "gone" }) });
  fails(() => resolveDockerEndpoint({ DOCKER_CONFIG: CONFIG }, cur), 3, /"gone" \(from the current context in \/cfg\/config\.json\)/);
});

test("hosts other than unix/tcp/ssh/npipe, or with control characters, are invalid input (exit 2)", () => {
  for (const host of ["http://h:2375", "h:2375", "tcp://", "unix:///s\nDOCKER_HOST=tcp://evil", "fd://", "tcp://h:2375\r"]) {
    fails(() => resolveDockerEndpoint({ DOCKER_HOST: host }, disk), 2, /Docker host/);
  }
  const evil = files({ ...meta("bad", "unix:///s\n-H tcp://x") });
  fails(() => resolveDockerEndpoint({ DOCKER_CONTEXT: "bad", DOCKER_CONFIG: CONFIG }, evil), 2, /Docker context "bad"/);
  fails(() => resolveDockerEndpoint({ DOCKER_CONTEXT: "a\nb", DOCKER_CONFIG: CONFIG }, disk), 2, /control characters/);
  for (const host of ["unix:///var/run/docker.sock", "tcp://10.0.0.1:2375", "ssh://u@h", "npipe:////./pipe/docker_engine"]) {
    assert.is(resolveDockerEndpoint({ DOCKER_HOST: host }, disk).host, host);
  }
});

test("describeEndpoint says where the endpoint came from", () => {
  assert.is(describeEndpoint({ host: "unix:///var/run/docker.sock", source: "default" }), "unix:///var/run/docker.sock (default socket)");
  assert.is(describeEndpoint({ host: "unix:///e2", source: "DOCKER_CONTEXT", context: "e2" }), "unix:///e2 (DOCKER_CONTEXT e2)");
  assert.is(describeEndpoint({ host: "unix:///e2", source: "context e2", context: "e2" }), "unix:///e2 (context e2)");
});

// What docker-compose 1.29 printed when its engine was killed (kill -9) during `up -d`.
const KILLED = `Creating network "eplost_default" with the default driver
Creating eplost_db_1 ...

ERROR: for eplost_db_1  ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))

ERROR: for db  ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))
Couldn't connect to Docker daemon at http+docker://localhost - is it running?

If it's at a non-standard location, specify the URL with the DOCKER_HOST environment variable.
`;

const TRACEBACK = `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/urllib3/connectionpool.py", line 699, in urlopen
    httplib_response = self._make_request(
ConnectionRefusedError: [Errno 111] Connection refused
During handling of the above exception, another exception occurred:
requests.exceptions.ConnectionError: ('Connection aborted.', ConnectionRefusedError(111, 'Connection refused'))
docker.errors.DockerException: Error while fetching server API version: ('Connection aborted.', ConnectionRefusedError(111, 'Connection refused'))
`;

test("compose output of a lost engine becomes one exit-3 line", () => {
  assert.is(engineLostReason(KILLED), "the connection was dropped");
  assert.is(engineLostReason(TRACEBACK), "connection refused");
  assert.is(engineLostReason("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"), "cannot connect");
  assert.is(engineLostReason("ERROR: for web  Cannot start service web: driver failed programming external connectivity"), undefined);
  for (const stderr of [KILLED, TRACEBACK]) {
    const e = composeFailure("Starting x/y failed", { code: 1, stdout: "", stderr, ms: 1 }, { during: "up" });
    assert.is(e.exitCode, 3);
    assert.match(e.message, /^The Docker engine stopped answering during up: [a-z ]+$/);
  }
  const other = composeFailure(
    "Starting x/y failed",
    { code: 1, ms: 1, stdout: "", stderr: 'ERROR: for app  Container "8c26702f9e2c" is unhealthy.\n' },
    { during: "up" },
  );
  assert.is(other.exitCode, 1);
});

test.run();
