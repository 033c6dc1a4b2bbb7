// Hosts (issue 17, docs/remote.md): address and name validation, the state's host records and the
// env's host field, and add/list/rm over a test context (no engine: add --no-check). The engine
// checks over ssh:// and tcp:// are in test/integration/host.test.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CiloError } from "../../src/core/errors.ts";
import { hostnameProblem, hostNameProblem, parseHostAddress } from "../../src/core/host-address.ts";
import { hostEndpoint } from "../../src/core/host-endpoint.ts";
import { refreshHostResolution, resolveEngineName } from "../../src/core/host/resolve-name.ts";
import { reachEnv } from "../../src/core/env/env-context.ts";
import { FakeProvider } from "../helpers/fake-provider.ts";
import { addHost, listHosts, removeHost } from "../../src/core/host/hosts.ts";
import { envDockerName } from "../../src/core/labels.ts";
import { emptyState, type EnvRecord } from "../../src/core/state/schema.ts";
import { initState, readState, withState } from "../../src/core/state/store.ts";
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

test("a tcp:// engine's host name: RFC 1123 labels, lower case, no trailing dot or junk, not digits only at the end", () => {
  for (const good of ["build1", "build1.tailnet.example", "a-b.c-d.example", "x1.ts.net", `${"a".repeat(63)}.example`])
    assert.is(hostnameProblem(good), undefined, good);
  for (const bad of [
    "",
    "Build1.example",
    "my_host.example",
    "-a.example",
    "a-.example",
    "a..b",
    "a.b.",
    ".a.b",
    "a b",
    "a.b/x",
    "a.b:1",
    "10.0.0",
    "1.2.3.4",
    "host.123",
    `${"a".repeat(64)}.example`,
    `${"a.".repeat(127)}ab`,
  ])
    assert.ok(hostnameProblem(bad), JSON.stringify(bad));
});

test("host add of tcp://<name>: refused when the name is not a host name; recorded with what it resolves to, or why not", async () => {
  const home = tempDir("cilo-unit-hostname-");
  try {
    const ctx = testContext({ home, names: { "build1.tailnet.example": "100.101.7.7", "lo.example": "127.0.0.1" } });
    await initState(ctx, {});
    await rejects(addHost(ctx, { name: "u1", target: "tcp://my_host.example:2375", check: false }), "E_HOST_INVALID", 2);
    await rejects(addHost(ctx, { name: "u2", target: "tcp://host.123:2375", check: false }), "E_HOST_INVALID", 2);
    await addHost(ctx, { name: "n1", target: "tcp://Build1.Tailnet.Example:2376", check: false });
    await addHost(ctx, { name: "n2", target: "tcp://gone.example:2376", check: false });
    await addHost(ctx, { name: "n3", target: "tcp://10.0.0.5:2376", check: false });
    const hosts = readState(ctx).hosts!;
    assert.equal(hosts["n1"]!.resolved, { name: "build1.tailnet.example", ipv4: "100.101.7.7", at: "2026-01-01T00:00:00.000Z" });
    assert.equal(hosts["n2"]!.resolved, { name: "gone.example", error: "getaddrinfo ENOTFOUND gone.example", at: "2026-01-01T00:00:00.000Z" });
    assert.is(hosts["n3"]!.resolved, undefined, "an IP address is not looked up");
    // The engine is still dialled by name (TLS checks the name); its gateway and forwards publish on the address.
    assert.equal(hostEndpoint(ctx, "n1", hosts["n1"]!), { host: "tcp://build1.tailnet.example:2376", source: "host n1", publishAddress: "100.101.7.7" });
    assert.is(hostEndpoint(ctx, "n2", hosts["n2"]!).publishAddress, undefined);
    assert.equal(validateState(readState(ctx)), []);
    // Resolved again when it changed (and only then is state written); a loopback is recorded, not published on.
    const again = testContext({ home, names: { "build1.tailnet.example": "100.101.7.8", "gone.example": "127.0.0.1" } });
    const before = readFileSync(join(home, "state.json"), "utf8");
    const same = await refreshHostResolution(ctx, "n1", hosts["n1"]!);
    assert.is(readFileSync(join(home, "state.json"), "utf8"), before, "an unchanged answer writes nothing");
    assert.is(same, hosts["n1"]);
    const moved = await refreshHostResolution(again, "n1", hosts["n1"]!);
    assert.is(moved.resolved?.ipv4, "100.101.7.8");
    assert.is(readState(ctx).hosts!["n1"]!.resolved?.ipv4, "100.101.7.8");
    const lo = await refreshHostResolution(again, "n2", hosts["n2"]!);
    assert.is(lo.resolved?.ipv4, "127.0.0.1");
    assert.is(hostEndpoint(ctx, "n2", lo).publishAddress, undefined, "never published on a loopback");
  } finally {
    removeDir(home);
  }
});

test("a resolver's failure is kept as one line; addresses and ssh:// are not looked up; a name that does not resolve is the reason an env's host is not reached", async () => {
  const hung = { clock: { now: () => 0, sleep: async () => {} }, lookupIPv4: () => new Promise<string>(() => {}) };
  const multi = { clock: hung.clock, lookupIPv4: async () => Promise.reject(new Error("first line\nsecond\u0007")) };
  assert.equal(await resolveEngineName(multi, "tcp://a.example:2375"), { name: "a.example", error: "first line", at: "1970-01-01T00:00:00.000Z" });
  assert.is(await resolveEngineName(hung, "ssh://a.example"), undefined);
  assert.is(await resolveEngineName(hung, "tcp://10.1.2.3:2375"), undefined);
  const home = tempDir("cilo-unit-hostname-");
  try {
    const down = new FakeProvider("tcp://gone.example:2375");
    down.down = true;
    const ctx = testContext({ home, engines: { "tcp://gone.example:2375": down } });
    await initState(ctx, {});
    await addHost(ctx, { name: "g1", target: "tcp://gone.example:2375", check: false });
    const e = await rejects(reachEnv(ctx, { host: "g1" }), "E_HOST_UNREACHABLE", 3);
    assert.is(
      e.message,
      "host g1 (tcp://gone.example:2375): name failed: gone.example does not resolve to an IPv4 address (getaddrinfo ENOTFOUND gone.example)",
    );
  } finally {
    removeDir(home);
  }
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
    r5: { address: "tcp://a.example:1", resolved: { name: "a.example", ipv4: "1.2.3", at: "t" }, added_at: "t" },
    r6: { address: "tcp://a.example:1", resolved: { name: "a_b", error: "x", at: "2026-01-01T00:00:00Z" }, added_at: "t" },
    r7: { address: "tcp://a.example:1", resolved: { name: "a.example", ipv4: "1.2.3.4", error: "x", at: "2026-01-01T00:00:00Z" }, added_at: "t" },
    r8: { address: "tcp://a.example:1", resolved: { name: "a.example", error: "two\nlines", at: "2026-01-01T00:00:00Z" }, added_at: "t" },
  };
  const problems = validateState(s).join("\n");
  assert.match(problems, /host "r1" has an address that is not ssh:\/\/ or tcp:\/\//);
  assert.match(problems, /host "r2" must have either an address or a context/);
  assert.match(problems, /host "r3" must have either an address or a context/);
  assert.match(problems, /host "r4" has a tls_dir that is not an absolute path/);
  assert.match(problems, /host "Bad"/);
  assert.match(problems, /host "r5" has a resolved entry that has an ipv4 that is not an IPv4 address/);
  assert.match(problems, /host "r6" has a resolved entry that has a name that is not a host name/);
  assert.match(problems, /host "r7" has a resolved entry that must have either ipv4 or error/);
  assert.match(problems, /host "r8" has a resolved entry that has an error that is not one line/);
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
