// Hosts (issue 17, docs/remote.md): address and name validation, the state's host records and the
// env's host field, and add/list/rm over a test context (no engine: add --no-check). The engine
// checks over ssh:// and tcp:// are in test/integration/host.test.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CiloError } from "../../src/core/errors.ts";
import { hostNameProblem, parseHostAddress } from "../../src/core/host-address.ts";
import { hostEndpoint } from "../../src/core/host-endpoint.ts";
import { addHost, listHosts, removeHost } from "../../src/core/host/hosts.ts";
import { envDockerName } from "../../src/core/labels.ts";
import { emptyState, type EnvRecord } from "../../src/core/state/schema.ts";
import { initState, withState } from "../../src/core/state/store.ts";
import { validateState } from "../../src/core/state/validate.ts";
import { sshArgs } from "../../src/providers/docker/ssh-dial.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";
import { testContext } from "../helpers/context.ts";

async function rejects(p: Promise<unknown>, code: string, exit: number): Promise<CiloError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, CiloError);
    assert.is((e as CiloError).code, code, (e as Error).message);
    assert.is((e as CiloError).exitCode, exit);
    return e as CiloError;
  }
  throw new Error(`expected ${code}`);
}

test("ssh:// and tcp:// addresses are normalised; anything else says why", () => {
  assert.equal(parseHostAddress("ssh://root@10.0.0.2"), { scheme: "ssh", address: "ssh://root@10.0.0.2" });
  assert.equal(parseHostAddress("ssh://me@Build1.example:2222/"), { scheme: "ssh", address: "ssh://me@build1.example:2222" });
  assert.equal(parseHostAddress("ssh://[fd00::2]"), { scheme: "ssh", address: "ssh://[fd00::2]" });
  assert.equal(parseHostAddress("tcp://10.0.0.2:2376"), { scheme: "tcp", address: "tcp://10.0.0.2:2376" });
  for (const [bad, why] of [
    ["http://x:80", /scheme http/],
    ["tcp://10.0.0.2", /no port/],
    ["ssh://me:secret@box", /password/],
    ["ssh://-oProxyCommand=x@box", /not a user name/],
    ["ssh://box/path", /path/],
    ["ssh://box\nx", /control/],
    ["tcp://me@10.0.0.2:2375", /user/],
    ["ssh://bad_host!", /not a valid URL|does not name a host/],
    ["10.0.0.2:2375", /not an ssh/],
  ] as const) {
    const r = parseHostAddress(bad);
    assert.ok("why" in r, bad);
    assert.match((r as { why: string }).why, why);
  }
});

test("host names are DNS labels, never normalised, and never local", () => {
  assert.is(hostNameProblem("build-1"), undefined);
  for (const bad of ["", "Build", "a_b", "-a", "local", "x".repeat(64)]) assert.ok(hostNameProblem(bad), bad);
});

test("ssh runs as the Docker CLI runs it: dial-stdio on the host, port and user as flags, no option injection", () => {
  assert.equal(sshArgs("ssh://me@box:2222").slice(-9, -2), ["-p", "2222", "-l", "me", "--", "box", "docker"]);
  assert.equal(sshArgs("ssh://box").slice(-5), ["--", "box", "docker", "system", "dial-stdio"]);
  assert.ok(sshArgs("ssh://box").includes("BatchMode=yes"));
});

const env = (host?: string, homeId = "testhome"): EnvRecord => ({
  project: "p",
  name: "a",
  docker_name: envDockerName(homeId, "p", "a"),
  status: "created",
  subnet: "10.224.0.0/24",
  workspace: "/w",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  services: [],
  ...(host ? { host } : {}),
});

test("state: hosts are validated, and an env's host must be a recorded one", () => {
  const s = emptyState("testhome");
  s.hosts = { r1: { address: "ssh://root@10.0.0.2", added_at: "2026-01-01T00:00:00Z" } };
  s.envs["p/a"] = env("r1");
  assert.equal(validateState(s), []);
  s.envs["p/a"] = env("r9");
  assert.match(validateState(s).join("\n"), /names the host "r9", which is not a recorded host/);
  s.envs["p/a"] = env();
  s.hosts = {
    r1: { address: "http://x", added_at: "t" },
    r2: { added_at: "t" },
    r3: { address: "tcp://h:1", context: "c", added_at: "t" },
    r4: { address: "tcp://h:1", tls_dir: "rel/dir", added_at: "t" },
    Bad: { context: "c", added_at: "t" },
  };
  const problems = validateState(s).join("\n");
  assert.match(problems, /host "r1" has an address that is not ssh:\/\/ or tcp:\/\//);
  assert.match(problems, /host "r2" must have either an address or a context/);
  assert.match(problems, /host "r3" must have either an address or a context/);
  assert.match(problems, /host "r4" has a tls_dir that is not an absolute path/);
  assert.match(problems, /host "Bad"/);
});

test("add (--no-check), list, duplicate, bad input and rm; failures leave state.json as it was", async () => {
  const home = tempDir("cilo-unit-host-");
  try {
    const ctx = testContext({ home });
    await initState(ctx, {});
    const { view } = await addHost(ctx, { name: "r1", target: "ssh://root@10.0.0.2:2222", check: false });
    assert.equal(view, {
      name: "r1",
      address: "ssh://root@10.0.0.2:2222",
      endpoint: "ssh://root@10.0.0.2:2222",
      added_at: "2026-01-01T00:00:00.000Z",
      envs: [],
    });
    assert.equal(hostEndpoint(ctx, "r1", { address: "tcp://h:2376", tls_dir: "/certs", added_at: "t" }), {
      host: "tcp://h:2376",
      source: "host r1",
      tlsPath: "/certs",
      tlsVerify: true,
    });
    const before = readFileSync(join(home, "state.json"), "utf8");
    await rejects(addHost(ctx, { name: "r1", target: "tcp://10.0.0.3:2375", check: false }), "E_HOST_EXISTS", 2);
    await rejects(addHost(ctx, { name: "r2", target: "ftp://x", check: false }), "E_HOST_INVALID", 2);
    await rejects(addHost(ctx, { name: "local", target: "ssh://x", check: false }), "E_HOST_INVALID", 2);
    await rejects(addHost(ctx, { name: "r2", target: "ssh://x", tlsDir: home, check: false }), "E_HOST_INVALID", 2);
    await rejects(addHost(ctx, { name: "r2", target: "tcp://x:2376", tlsDir: home, check: false }), "E_HOST_INVALID", 2);
    await rejects(addHost(ctx, { name: "r2", target: "no-such-context", check: false }), "E_HOST_INVALID", 2);
    await rejects(removeHost(ctx, "r9"), "E_HOST_NOT_FOUND", 2);
    assert.is(readFileSync(join(home, "state.json"), "utf8"), before);

    await withState(ctx, (s) => {
      s.envs["p/a"] = env("r1", s.home_id);
    });
    const planted = readFileSync(join(home, "state.json"), "utf8");
    const e = await rejects(removeHost(ctx, "r1"), "E_HOST_IN_USE", 1);
    assert.match(e.message, "p/a");
    assert.is(readFileSync(join(home, "state.json"), "utf8"), planted);
    assert.equal(listHosts(ctx)[0]!.envs, ["p/a"]);

    await withState(ctx, (s) => {
      delete s.envs["p/a"];
    });
    await removeHost(ctx, "r1");
    assert.equal(listHosts(ctx), []);
    assert.not.ok("hosts" in JSON.parse(readFileSync(join(home, "state.json"), "utf8")));
  } finally {
    removeDir(home);
  }
});

test("ctx.forEndpoint binds a context to a host's endpoint and keeps home, environment and clock", () => {
  const ctx = testContext({ home: "/nonexistent/home" });
  const ep = { host: "ssh://root@10.0.0.2", source: "host r1" as const };
  const h = ctx.forEndpoint(ep);
  assert.equal(h.endpoint(), ep);
  assert.is.not(ctx.endpoint(), ep);
  assert.equal([h.home, h.env, h.clock], [ctx.home, ctx.env, ctx.clock]);
});

test.run();
