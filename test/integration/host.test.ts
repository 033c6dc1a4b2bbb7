// cilo host add/list/check/rm (issue 17, docs/remote.md) against a real remote engine: the second
// engine `cilo-e2` (scripts/test-second-engine.sh, tcp://10.213.77.2:2375) and the sshd that
// scripts/test-remote.sh runs in its network namespace (ssh://root@10.213.77.2). The test's ssh
// finds its key through that script's wrapper on PATH (ssh -F), never ~/.ssh.
//
// Both are started if they do not answer and LEFT RUNNING (other test files reuse them; .ci/run
// stops them). Fails, never skips, when they cannot be started.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, refusedUnchanged, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";
import { shippedSchema, schemaAjv } from "../helpers/schemas.ts";
import { plantEnv } from "../helpers/state-files.ts";

const SCRIPT = join(repoRoot, "scripts/test-remote.sh");
const SSH = "ssh://root@10.213.77.2";
const TCP = "tcp://10.213.77.2:2375";
const home = tempDir("cilo-host-");
const statePath = join(home, "state.json");
const env = {
  // The wrapper first: the ssh that cilo, the docker CLI and compose run finds the test key.
  PATH: `/run/cilo-test-remote/bin:${process.env["PATH"]}`,
  // A host never takes the ambient engine: DOCKER_HOST points nowhere.
  DOCKER_HOST: "unix:///nonexistent/cilo-host-test.sock",
  DOCKER_CONTEXT: "",
  // The test image is on cilo-e2 (test-second-engine.sh loads it); busybox:1.36 may not be.
  CILO_HELPER_IMAGE: "cilo-test/busybox:latest",
};

const run = (args: string[]) => cilo(args, { home, env, timeoutMs: 120_000 });
function ok(args: string[]) {
  const r = run(args);
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stderr}`);
  return r;
}
function holds(name: string, value: unknown): void {
  const check = shippedSchema(name);
  assert.ok(check(value), `cilo.${name}.schema.json: ${schemaAjv.errorsText(check.errors)}\n${JSON.stringify(value, null, 2)}`);
}
/** A refusal: exit `code`, one stderr line matching `pattern`, state.json byte for byte as before. */
function refused(args: string[], code: number, pattern: RegExp): string {
  return refusedUnchanged(run, statePath, args, code, pattern);
}

test.before(async () => {
  const r = spawnSync("bash", [SCRIPT, "start"], { encoding: "utf8", timeout: 300_000 });
  assert.is(r.status, 0, `test-remote.sh start → ${r.status}\n${r.stdout}\n${r.stderr}`);
  ok(["init", "--dns-port", String(await freePort())]);
});

test.after(() => {
  removeDir(home);
});

test("host add over ssh:// and tcp://, then list (table and --json, of its schema)", () => {
  assert.match(ok(["host", "add", "r1", SSH]).stdout, "Added host r1: ssh://root@10.213.77.2");
  const tcp = ok(["host", "add", "t1", TCP, "--json"]);
  assert.match(tcp.stderr, "plain TCP", "a plain tcp:// host is warned about");
  assert.is(JSON.parse(tcp.stdout).endpoint, TCP);
  assert.match(ok(["host", "list"]).stdout, /r1\s+ssh:\/\/root@10\.213\.77\.2\s+0\n\s*t1\s+tcp:\/\/10\.213\.77\.2:2375\s+0/);
  const list = JSON.parse(ok(["host", "list", "--json"]).stdout) as { name: string; address: string; envs: string[] }[];
  holds("host-list", list);
  assert.equal(
    list.map((h) => [h.name, h.address, h.envs]),
    [
      ["r1", SSH, []],
      ["t1", TCP, []],
    ],
  );
  const state = JSON.parse(readFileSync(statePath, "utf8"));
  assert.equal(Object.keys(state.hosts), ["r1", "t1"]);
});

test("host check over ssh:// and tcp://: engine, compose through the same endpoint, latency, disk, gateway (--json of its schema)", () => {
  for (const [name, address] of [
    ["r1", SSH],
    ["t1", TCP],
  ] as const) {
    const c = JSON.parse(ok(["host", "check", name, "--json"]).stdout);
    holds("host-check", c);
    assert.is(c.endpoint, address);
    assert.match(c.engine.version, /^\d+\.\d+/);
    // The second engine's own data root: the check reached cilo-e2, not the main engine.
    assert.is(c.engine.root_dir, "/var/lib/cilo-e2/docker");
    assert.match(c.compose.command, /compose/);
    assert.is(c.latency_samples_ms.length, 3);
    assert.ok(c.disk.free_bytes > 0 && c.disk.total_bytes >= c.disk.free_bytes, JSON.stringify(c.disk));
    // tcp://: published on the engine's address; ssh://: on the host's loopback (a forward, planned).
    assert.equal([c.gateway.address, c.gateway.reach], name === "t1" ? ["10.213.77.2", "direct"] : ["127.0.0.1", "forward"]);
  }
  const human = ok(["host", "check", "r1"]).stdout;
  for (const row of ["engine", "compose", "latency", "disk", "gateway"]) assert.match(human, new RegExp(`^${row}\\s`, "m"));
  // The helper container is gone.
  const left = spawnSync("docker", ["ps", "-aq", "--filter", "label=cilo.helper=host-check"], { env: { ...process.env, DOCKER_HOST: TCP }, encoding: "utf8" });
  assert.is(left.stdout.trim(), "");
});

test("a name in use is refused (exit 2), state untouched", () => {
  refused(["host", "add", "r1", TCP], 2, /host named "r1" is recorded already/);
});

test("bad names and addresses are refused (exit 2) before anything is asked, state untouched", () => {
  refused(["host", "add", "r2", "http://10.213.77.2:2375"], 2, /scheme http:\/\//);
  refused(["host", "add", "r2", "tcp://10.213.77.2"], 2, /has no port/);
  refused(["host", "add", "r2", "ssh://root:pw@10.213.77.2"], 2, /password/);
  refused(["host", "add", "R2", SSH], 2, /host name "R2" is not valid/);
  refused(["host", "add", "r2", "no-such-context"], 2, /neither an ssh:\/\/ or tcp:\/\/ address nor a Docker context/);
  refused(["host", "add", "r2", SSH, "--tls-dir", home], 2, /--tls-dir is for tcp:\/\/ hosts only/);
});

test("an unreachable host: exit 3, one line naming the host and the check that failed, state untouched", () => {
  // Ports nobody listens on, on the remote machine's address.
  const ssh = refused(["host", "add", "r2", "ssh://root@10.213.77.2:2222"], 3, /^cilo: host r2 \(ssh:\/\/root@10\.213\.77\.2:2222\): engine failed: /);
  assert.match(ssh, /Connection refused/);
  refused(
    ["host", "add", "t2", "tcp://10.213.77.2:2999"],
    3,
    /^cilo: host t2 \(tcp:\/\/10\.213\.77\.2:2999\): engine failed: does not answer \(ECONNREFUSED\)/,
  );
  // Recorded without asking (--no-check), then checked: the same one line.
  ok(["host", "add", "t3", "tcp://10.213.77.2:2999", "--no-check"]);
  refused(["host", "check", "t3"], 3, /^cilo: host t3 \(tcp:\/\/10\.213\.77\.2:2999\): engine failed: /);
  ok(["host", "rm", "t3"]);
});

test("host rm is refused while an env is recorded on the host (exit 1, state untouched), then removes it", () => {
  const state = JSON.parse(readFileSync(statePath, "utf8"));
  // Planted: envs get their host from create --on later (issue 17 item 2); the record is what rm reads.
  plantEnv(home, "hp/e1", {
    project: "hp",
    name: "e1",
    docker_name: `cilo_${state.home_id}_hp_e1`,
    status: "stopped",
    subnet: "10.224.200.0/24",
    workspace: join(home, "envs/hp/e1"),
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    services: [],
    host: "r1",
  });
  assert.equal((JSON.parse(ok(["host", "list", "--json"]).stdout) as { envs: string[] }[])[0]!.envs, ["hp/e1"]);
  refused(["host", "rm", "r1"], 1, /^cilo: The host r1 has 1 env: hp\/e1$/);
  refused(["host", "rm", "nope"], 2, /No host named "nope"/);
  plantEnv(home, "hp/e1", undefined);
  ok(["host", "rm", "r1"]);
  ok(["host", "rm", "t1"]);
  assert.is(ok(["host", "list"]).stdout.trim(), "No hosts (cilo host add <name> ssh://user@host)");
  assert.not.ok("hosts" in JSON.parse(readFileSync(statePath, "utf8")));
});

test.run();
