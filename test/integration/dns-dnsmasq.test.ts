// cilo's dnsmasq against the real dnsmasq (SPEC §5): names per env, apex and wildcard of the
// ingress, custom hostnames, removal → NXDOMAIN, forwarding outside the suffix, restarts only for
// wildcard changes, missing binary and taken port. Made-up 10.251.x.y addresses need no containers.
import { createContext } from "../../src/core/context/context.ts";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import dnsCommand from "../../src/cli/commands/dns.ts";
import { applyDns, applyEnvDnsFrom, dnsFiles, dnsStatus, stopDns } from "../../src/core/dns/dnsmasq.ts";
import type { DnsEnv } from "../../src/core/dns/render.ts";
import { CiloError } from "../../src/core/errors.ts";
import { initState, withState } from "../../src/core/state/store.ts";
import { freePort } from "../helpers/docker.ts";
import { pollValue } from "../helpers/until.ts";

const homes: string[] = [];
const extraPids: number[] = [];

function tempHome(): string {
  const h = mkdtempSync(join(tmpdir(), "cilo-dns-it-"));
  homes.push(h);
  return h;
}

function dig(port: number, name: string): { status: string; answers: string[] } {
  const out = execFileSync("dig", [`@127.0.0.1`, "-p", String(port), name, "A", "+time=1", "+tries=2"], { encoding: "utf8" });
  const status = /status: ([A-Z]+)/.exec(out)?.[1] ?? "?";
  const answers = out
    .split("\n")
    .filter((l) => !l.startsWith(";") && /\sIN\s+A\s/.test(l))
    .map((l) => l.trim().split(/\s+/).pop()!);
  return { status, answers };
}

/** Polls dig until `want` holds (hosts files are picked up within milliseconds; allow 2 s). */
function digUntil(port: number, name: string, want: (r: { status: string; answers: string[] }) => boolean): Promise<{ status: string; answers: string[] }> {
  return pollValue(() => dig(port, name), want, { timeoutMs: 2_000, stepMs: 20 });
}

function processesWithConfig(config: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, "utf8").includes(`--conf-file=${config}`)) pids.push(Number(p));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

const shop: DnsEnv = {
  project: "shop",
  env: "feat",
  suffix: "test",
  services: [
    { name: "web", ip: "10.251.0.3", ingress: true, hostnames: ["admin.shop"] },
    { name: "api", ip: "10.251.0.2", hostnames: ["backend"] },
    { name: "db" },
  ],
};
const blog: DnsEnv = {
  project: "blog",
  env: "main",
  suffix: "test",
  services: [
    { name: "api", ip: "10.251.1.2" },
    { name: "app", ip: "10.251.1.3", ingress: true },
  ],
};

test("two envs: service names, custom hostnames, apex and wildcard of the ingress", async () => {
  const home = tempHome();
  const port = await freePort();
  const r = await applyDns([shop, blog], { home, env: process.env, port, upstreams: [] });
  assert.ok(r.started);
  assert.equal(r.written.sort(), ["blog.main.hosts", "shop.feat.hosts"]);
  const expect: [string, string][] = [
    ["api.feat.test", "10.251.0.2"],
    ["web.feat.test", "10.251.0.3"],
    ["backend.feat.test", "10.251.0.2"],
    ["shop.feat.test", "10.251.0.3"],
    ["anything.shop.feat.test", "10.251.0.3"],
    ["a.b.shop.feat.test", "10.251.0.3"],
    ["api.main.test", "10.251.1.2"],
    ["blog.main.test", "10.251.1.3"],
    ["x.blog.main.test", "10.251.1.3"],
  ];
  for (const [name, ip] of expect) assert.equal(dig(port, name).answers, [ip], name);
  // A custom hostname under the ingress wildcard answers its own service.
  assert.equal(dig(port, "admin.shop.feat.test").answers, ["10.251.0.3"]);
  assert.equal(dig(port, "db.feat.test"), { status: "NXDOMAIN", answers: [] }, "no IP, not served");
  assert.equal(dig(port, "nope.feat.test"), { status: "NXDOMAIN", answers: [] }, "unknown names in the suffix are NXDOMAIN");
  await stopDns({ home, env: process.env });
});

test("removing an env makes its names NXDOMAIN without a restart; exact-name changes never restart", async () => {
  const home = tempHome();
  const port = await freePort();
  const first = await applyDns([shop, blog], { home, env: process.env, port, upstreams: [] });
  const renamed: DnsEnv = {
    ...blog,
    services: [
      { name: "api2", ip: "10.251.1.2" },
      { name: "app", ip: "10.251.1.3", ingress: true },
    ],
  };
  const second = await applyDns([shop, renamed], { home, env: process.env, port, upstreams: [] });
  assert.is(second.restarted, false);
  assert.is(second.pid, first.pid);
  assert.equal(second.written, ["blog.main.hosts"]);
  assert.equal((await digUntil(port, "api2.main.test", (r) => r.answers.length > 0)).answers, ["10.251.1.2"]);
  assert.is((await digUntil(port, "api.main.test", (r) => r.status === "NXDOMAIN")).status, "NXDOMAIN");

  const third = await applyDns([shop], { home, env: process.env, port, upstreams: [] });
  assert.equal(third.removed, ["blog.main.hosts"]);
  assert.is(third.restarted, false, "the wildcard set changed (blog's ingress left): no restart");
  assert.ok(third.switched, "a new wildcard instance took over");
  assert.is(third.pid, first.pid);
  assert.not.ok(existsSync(join(dnsFiles(home).hostsDir, "blog.main.hosts")));
  for (const name of ["api2.main.test", "blog.main.test", "x.blog.main.test"]) {
    const r = dig(port, name);
    assert.is(r.status, "NXDOMAIN", name);
    assert.equal(r.answers, [], name);
  }
  assert.equal(dig(port, "api.feat.test").answers, ["10.251.0.2"]);
  await stopDns({ home, env: process.env });
});

test("a wildcard change keeps dnsmasq running: a new wildcard instance takes over and the new apex answers at once", async () => {
  const home = tempHome();
  const port = await freePort();
  const before = await applyDns([shop], { home, env: process.env, port, upstreams: [] });
  const moved: DnsEnv = { ...shop, services: shop.services.map((s) => (s.name === "web" ? { ...s, ip: "10.251.0.9" } : s)) };
  const after = await applyDns([moved], { home, env: process.env, port, upstreams: [] });
  assert.is(after.restarted, false);
  assert.ok(after.switched);
  assert.is(after.pid, before.pid, "the dnsmasq clients ask is never stopped");
  // How fast the switch is (target < 2 s) is bench/dns.ts's figure.
  assert.ok(Number.isFinite(after.switchMs), `switchMs: ${after.switchMs}`);
  assert.equal(dig(port, "z.shop.feat.test").answers, ["10.251.0.9"]);
  assert.equal(processesWithConfig(dnsFiles(home).config), [after.pid], "exactly one front dnsmasq for this home");
  const wildcardInstances = readdirSync(dnsFiles(home).dir).filter((n) => /^wildcards-\d+\.conf$/.test(n));
  assert.is(wildcardInstances.length, 1, `the old wildcard instance is gone: ${wildcardInstances.join(", ")}`);
  await stopDns({ home, env: process.env });
  assert.equal(
    readdirSync(dnsFiles(home).dir).filter((n) => /^wildcards-\d+\./.test(n)),
    [],
    "dns stop stops the wildcard instance too",
  );
});

test("names outside the suffix go to the upstream (CILO_DNS_UPSTREAMS); names inside never do", async () => {
  const upstreamDir = mkdtempSync(join(tmpdir(), "cilo-dns-upstream-"));
  homes.push(upstreamDir);
  const upstreamPort = await freePort();
  const conf = join(upstreamDir, "upstream.conf");
  writeFileSync(
    conf,
    [
      `port=${upstreamPort}`,
      "listen-address=127.0.0.1",
      "bind-interfaces",
      "no-resolv",
      "no-hosts",
      `pid-file=${join(upstreamDir, "pid")}`,
      "address=/example.internal/10.9.9.9",
      "address=/test/10.6.6.6",
      "",
    ].join("\n"),
  );
  const started = spawnSync("dnsmasq", [`--conf-file=${conf}`, ...(process.getuid?.() === 0 ? ["--user=root"] : [])], { encoding: "utf8" });
  assert.is(started.status, 0, started.stderr);
  extraPids.push(Number(readFileSync(join(upstreamDir, "pid"), "utf8")));

  const home = tempHome();
  const port = await freePort();
  const saved = process.env["CILO_DNS_UPSTREAMS"];
  process.env["CILO_DNS_UPSTREAMS"] = `127.0.0.1#${upstreamPort},127.0.0.1#${port}`;
  try {
    await applyDns([shop], { home, env: process.env, port });
    const config = readFileSync(dnsFiles(home).config, "utf8");
    assert.match(config, new RegExp(`^server=127\\.0\\.0\\.1#${upstreamPort}$`, "m"));
    assert.not.match(config, new RegExp(`#${port}$`, "m"), "never forwards to itself");
    assert.equal(dig(port, "host.example.internal").answers, ["10.9.9.9"]);
    assert.equal(dig(port, "nope.feat.test"), { status: "NXDOMAIN", answers: [] }, "the suffix is local, not forwarded");
    assert.equal(dig(port, "api.feat.test").answers, ["10.251.0.2"]);
  } finally {
    if (saved === undefined) delete process.env["CILO_DNS_UPSTREAMS"];
    else process.env["CILO_DNS_UPSTREAMS"] = saved;
    await stopDns({ home, env: process.env });
  }
});

test("a collision throws before anything is written", async () => {
  const home = tempHome();
  const port = await freePort();
  await applyDns([shop], { home, env: process.env, port, upstreams: [] });
  const files = dnsFiles(home);
  const before = readFileSync(join(files.hostsDir, "shop.feat.hosts"), "utf8");
  const clash: DnsEnv = { project: "other", env: "feat", suffix: "test", services: [{ name: "api", ip: "10.251.7.7" }] };
  try {
    await applyDns([shop, clash], { home, env: process.env, port, upstreams: [] });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, CiloError);
    assert.is((e as CiloError).code, "E_DNS_COLLISION");
    assert.is((e as CiloError).message, `"api.feat.test" would answer 10.251.7.7 for other/feat and 10.251.0.2 for shop/feat`);
  }
  assert.equal(readdirSync(files.hostsDir), ["shop.feat.hosts"]);
  assert.is(readFileSync(join(files.hostsDir, "shop.feat.hosts"), "utf8"), before);
  await stopDns({ home, env: process.env });
});

test("status: in sync after apply, out of sync after a hand edit, not running after stop", async () => {
  const home = tempHome();
  const port = await freePort();
  const opts = { home, env: process.env, port, upstreams: [] };
  const applied = await applyDns([shop], opts);
  let s = dnsStatus([shop], opts);
  assert.equal({ running: s.running, pid: s.pid, names: s.names, inSync: s.inSync }, { running: true, pid: applied.pid, names: 4, inSync: true });
  assert.is(s.configPath, join(home, "dns", "dnsmasq.conf"));
  assert.is(dnsStatus([shop, blog], opts).inSync, false, "state has more than dnsmasq serves");
  writeFileSync(join(dnsFiles(home).hostsDir, "shop.feat.hosts"), "10.251.0.66 api.feat.test\n");
  assert.is(dnsStatus([shop], opts).inSync, false);
  const repaired = await applyDns([shop], opts);
  assert.equal(repaired.written, ["shop.feat.hosts"]);
  assert.is(dnsStatus([shop], opts).inSync, true);
  assert.equal(
    (await stopDns({ home, env: process.env })).map((p) => [p.role, p.recorded]),
    [
      ["front", true],
      ["wildcards", true],
    ],
  );
  assert.equal(await stopDns({ home, env: process.env }), [], "second stop: not running");
  s = dnsStatus([shop], opts);
  assert.is(s.running, false);
  assert.is(s.pid, null);
  assert.equal(processesWithConfig(dnsFiles(home).config), []);
});

test("an env's apply (applyEnvDnsFrom) touches only that env: its hosts file, its wildcard line, and falls back to the full apply when dnsmasq is not as last applied", async () => {
  const home = tempHome();
  const port = await freePort();
  const opts = { home, env: process.env, port, upstreams: [] };
  const files = dnsFiles(home);
  const notFull = (): DnsEnv[] => {
    throw new Error("the env's apply fell back to the full one");
  };
  const envApply = (served: DnsEnv | undefined, project: string, env: string, all: () => DnsEnv[] = notFull) =>
    applyEnvDnsFrom({ home, env: process.env }, () => ({
      change: { project, env, ...(served ? { served } : {}), suffixes: ["test"] },
      options: opts,
      all,
    }));
  await applyDns([shop, blog], opts);
  // An exact name moves: only shop's file is written, nothing restarts or switches.
  const moved: DnsEnv = { ...shop, services: shop.services.map((s) => (s.name === "api" ? { ...s, ip: "10.251.0.9" } : s)) };
  let r = await envApply(moved, "shop", "feat");
  assert.equal(
    { written: r.written, removed: r.removed, full: r.full, switched: r.switched, restarted: r.restarted },
    {
      written: ["shop.feat.hosts"],
      removed: [],
      full: false,
      switched: false,
      restarted: false,
    },
  );
  assert.equal((await digUntil(port, "api.feat.test", (x) => x.answers[0] === "10.251.0.9")).answers, ["10.251.0.9"]);
  assert.is(dnsStatus([moved, blog], opts).inSync, true, "what the full apply of the state would leave");
  // The ingress moves: shop's wildcard line is swapped, blog's kept, by a switch of the wildcard instance.
  const ingress: DnsEnv = { ...moved, services: moved.services.map((s) => (s.name === "web" ? { ...s, ip: "10.251.0.7" } : s)) };
  r = await envApply(ingress, "shop", "feat");
  assert.is(r.switched, true);
  assert.equal(dig(port, "x.shop.feat.test").answers, ["10.251.0.7"]);
  assert.equal(dig(port, "x.blog.main.test").answers, ["10.251.1.3"]);
  assert.is(dnsStatus([ingress, blog], opts).inSync, true);
  // Another env's file edited by hand is neither read nor repaired by an env's apply ...
  writeFileSync(join(files.hostsDir, "blog.main.hosts"), "10.251.1.66 api.main.test\n");
  // ... and an env no longer served (destroyed, down) loses its file and wildcard line.
  r = await envApply(undefined, "shop", "feat");
  assert.equal({ written: r.written, removed: r.removed, full: r.full }, { written: [], removed: ["shop.feat.hosts"], full: false });
  assert.equal((await digUntil(port, "api.feat.test", (x) => x.status === "NXDOMAIN")).status, "NXDOMAIN");
  assert.equal(dig(port, "x.shop.feat.test").status, "NXDOMAIN");
  assert.equal(dig(port, "x.blog.main.test").answers, ["10.251.1.3"]);
  assert.equal(readdirSync(files.hostsDir).sort(), ["blog.main.hosts"], "no temp file left");
  // The full apply (cilo dns start, doctor) reads every file back and repairs it.
  assert.equal((await applyDns([blog], opts)).written, ["blog.main.hosts"]);
  assert.is(dnsStatus([blog], opts).inSync, true);
  // dnsmasq stopped (cilo dns stop): what runs is unknown, so the env's apply is the full one.
  await stopDns({ home, env: process.env });
  r = await envApply(shop, "shop", "feat", () => [shop, blog]);
  assert.equal({ full: r.full, started: r.started }, { full: true, started: true });
  assert.equal(dig(port, "x.blog.main.test").answers, ["10.251.1.3"]);
  assert.equal(dig(port, "api.feat.test").answers, ["10.251.0.2"]);
  // The last served env goes: nothing left to serve, dnsmasq stops (start: "when-needed").
  const whenNeeded = (project: string, env: string) =>
    applyEnvDnsFrom({ home, env: process.env }, () => ({
      change: { project, env, suffixes: ["test"] },
      options: { ...opts, start: "when-needed" },
      all: notFull,
    }));
  r = await whenNeeded("blog", "main");
  assert.equal({ stopped: r.stopped, full: r.full, removed: r.removed }, { stopped: false, full: false, removed: ["blog.main.hosts"] });
  r = await whenNeeded("shop", "feat");
  assert.equal({ stopped: r.stopped, pid: r.pid }, { stopped: true, pid: null });
  assert.equal(processesWithConfig(files.config), []);
});

test("a stale pid file (pid of another process) is ignored", async () => {
  const home = tempHome();
  const port = await freePort();
  mkdirSync(join(home, "dns"), { recursive: true });
  writeFileSync(dnsFiles(home).pidFile, `${process.pid}\n`);
  const r = await applyDns([shop], { home, env: process.env, port, upstreams: [] });
  assert.ok(r.started);
  assert.is.not(r.pid, process.pid);
  assert.equal(dig(port, "api.feat.test").answers, ["10.251.0.2"]);
  await stopDns({ home, env: process.env });
});

test("concurrent applies (lock) leave one dnsmasq serving the last applied input", async () => {
  const home = tempHome();
  const port = await freePort();
  const variants: DnsEnv[][] = Array.from({ length: 8 }, (_, i) => [
    {
      ...shop,
      services: [
        { name: "web", ip: `10.251.2.${i + 1}`, ingress: i % 2 === 0 },
        { name: `only${i}`, ip: "10.251.3.1" },
      ],
    },
  ]);
  const results = await Promise.all(variants.map((v) => applyDns(v, { home, env: process.env, port, upstreams: [] })));
  assert.is(results.filter((r) => r.started).length, 1);
  const pids = processesWithConfig(dnsFiles(home).config);
  assert.is(pids.length, 1, `dnsmasq processes: ${pids.join(", ")}`);
  const s = dnsStatus(variants[variants.length - 1]!, { home, env: process.env, port, upstreams: [] });
  const inSyncWithSome = variants.some((v) => dnsStatus(v, { home, env: process.env, port, upstreams: [] }).inSync);
  assert.ok(s.running && inSyncWithSome, "the files on disk are exactly one of the inputs");
  await stopDns({ home, env: process.env });
});

test("env applies of different envs at once (as concurrent cilo up/down) lose none: every env's names and wildcard answer, as the full apply would leave them", async () => {
  const home = tempHome();
  const port = await freePort();
  const opts = { home, env: process.env, port, upstreams: [] };
  const envOf = (i: number): DnsEnv => ({
    project: "race",
    env: `e${i}`,
    suffix: "test",
    services: [
      { name: "web", ip: `10.251.4.${i + 1}`, ingress: true },
      { name: "api", ip: `10.251.5.${i + 1}` },
    ],
  });
  // What "state" holds at each apply's read: each apply reads it under the DNS lock, as syncEnvDns does.
  const served = new Map<string, DnsEnv>([["race/e0", envOf(0)]]);
  await applyDns([...served.values()], opts);
  const changes = Array.from({ length: 8 }, (_, j) => j + 1).map(async (i) => {
    served.set(`race/e${i}`, envOf(i)); // the env's state is written before its apply, as withState then refreshDns
    return applyEnvDnsFrom({ home, env: process.env }, () => ({
      change: { project: "race", env: `e${i}`, served: served.get(`race/e${i}`)!, suffixes: ["test"] },
      options: opts,
      all: () => [...served.values()],
    }));
  });
  const results = await Promise.all(changes);
  assert.ok(
    results.every((r) => !r.full),
    "each was an env's apply",
  );
  for (let i = 0; i <= 8; i++) {
    assert.equal(dig(port, `api.e${i}.test`).answers, [`10.251.5.${i + 1}`], `api.e${i}`);
    assert.equal(dig(port, `x.race.e${i}.test`).answers, [`10.251.4.${i + 1}`], `wildcard of e${i}`);
  }
  assert.is(dnsStatus([...served.values()], opts).inSync, true);
  assert.is(processesWithConfig(dnsFiles(home).config).length, 1);
  // The machine's suffix or the routing's gateway address changed (another basis): every env's names
  // change with it, so an env's apply is the full one, which records the new basis.
  await applyDns([...served.values()], { ...opts, basis: "one\n" });
  const again = (basis: string) =>
    applyEnvDnsFrom({ home, env: process.env }, () => ({
      change: { project: "race", env: "e1", served: served.get("race/e1")!, suffixes: ["test"] },
      options: { ...opts, basis },
      all: () => [...served.values()],
    }));
  assert.is((await again("two\n")).full, true);
  assert.is((await again("two\n")).full, false);
  await stopDns({ home, env: process.env });
});

test("dnsmasq missing from PATH: exit 3 with the install hint, nothing started", async () => {
  const home = tempHome();
  const port = await freePort();
  const saved = { PATH: process.env["PATH"], CILO_DNSMASQ: process.env["CILO_DNSMASQ"] };
  process.env["PATH"] = mkdtempSync(join(tmpdir(), "cilo-empty-path-"));
  homes.push(process.env["PATH"]);
  process.env["CILO_DNSMASQ"] = "dnsmasq";
  try {
    await applyDns([shop], { home, env: process.env, port, upstreams: [] });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, CiloError);
    assert.is((e as CiloError).code, "E_DNSMASQ_MISSING");
    assert.is((e as CiloError).exitCode, 3);
    assert.match((e as CiloError).hint ?? "", /apt-get install dnsmasq-base|brew install dnsmasq/);
  } finally {
    process.env["PATH"] = saved.PATH;
    if (saved.CILO_DNSMASQ === undefined) delete process.env["CILO_DNSMASQ"];
    else process.env["CILO_DNSMASQ"] = saved.CILO_DNSMASQ;
  }
  assert.is(dnsStatus([shop], { home, env: process.env, port, upstreams: [] }).running, false);
});

test("port taken by another program (UDP and TCP, or either): exit 3 naming the port", async () => {
  for (const holds of [["udp", "tcp"], ["udp"], ["tcp"]]) {
    const home = tempHome();
    const port = await freePort();
    const tcp = createServer();
    const udp = createSocket("udp4");
    if (holds.includes("tcp")) await new Promise<void>((res) => tcp.listen(port, "127.0.0.1", () => res()));
    if (holds.includes("udp")) await new Promise<void>((res) => udp.bind(port, "127.0.0.1", () => res()));
    try {
      await applyDns([shop], { home, env: process.env, port, upstreams: [] });
      assert.unreachable(holds.join("+"));
    } catch (e) {
      assert.instance(e, CiloError);
      assert.is((e as CiloError).code, "E_DNS_PORT_TAKEN", holds.join("+"));
      assert.is((e as CiloError).exitCode, 3);
      assert.match((e as CiloError).message, new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is taken by another program`));
      assert.match((e as CiloError).hint ?? "", /--dns-port/);
    } finally {
      if (holds.includes("tcp")) tcp.close();
      if (holds.includes("udp")) udp.close();
    }
  }
});

test("cilo dns start|status|render|stop from state", async () => {
  const home = tempHome();
  const port = await freePort();
  const ctx = createContext({
    home,
    env: process.env,
    cwd: home,
    createProvider: async () => {
      throw new Error("cilo dns needs no container runtime");
    },
  });
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  const run = async (action: string, opts = {}) => {
    out.length = 0;
    const code = await dnsCommand(ctx, action, opts);
    return { code, text: out.join("") };
  };
  try {
    await initState(ctx, { dns_port: port });
    await withState(ctx, (state) => {
      const base = { subnet: "10.251.0.0/24", workspace: "/w", created_at: "t", updated_at: "t" };
      state.envs["shop/feat"] = {
        ...base,
        project: "shop",
        name: "feat",
        docker_name: "cilo_shop_feat",
        status: "running",
        services: [{ name: "web", ip: "10.251.0.3", ingress: true }],
        hostnames: { web: ["www"] },
      };
      state.envs["shop/off"] = {
        ...base,
        subnet: "10.251.9.0/24",
        project: "shop",
        name: "off",
        docker_name: "cilo_shop_off",
        status: "stopped",
        services: [{ name: "web" }],
      };
    });
    const before = JSON.parse((await run("status", { json: true })).text);
    assert.equal(
      { running: before.running, names: before.names, in_sync: before.in_sync, port: before.port },
      { running: false, names: 2, in_sync: false, port },
    );
    const started = await run("start");
    assert.is(started.code, 0);
    assert.match(started.text, /dnsmasq started \(pid \d+\): 2 names/);
    assert.equal(dig(port, "www.feat.test").answers, ["10.251.0.3"]);
    assert.equal(dig(port, "x.shop.feat.test").answers, ["10.251.0.3"]);
    const after = JSON.parse((await run("status", { json: true })).text);
    assert.equal({ running: after.running, in_sync: after.in_sync }, { running: true, in_sync: true });
    assert.match((await run("status")).text, /in sync\s+yes/);
    assert.match((await run("start")).text, /already running/);
    const rendered = (await run("render")).text;
    assert.match(rendered, new RegExp(`==> ${join(home, "dns", "dnsmasq.conf")} <==\\n[^]*port=${port}\\n[^]*servers-file=`));
    assert.match(rendered, /==> wildcards [\s\S]*<==\naddress=\/shop\.feat\.test\/10\.251\.0\.3\n/);
    assert.match(rendered, /==> .*shop\.feat\.hosts <==\n# cilo: shop\/feat .*\n10\.251\.0\.3 web\.feat\.test\n10\.251\.0\.3 www\.feat\.test\n/);
    assert.match((await run("stop")).text, /dnsmasq stopped/);
    assert.match((await run("stop")).text, /not running/);
    try {
      await run("frobnicate");
      assert.unreachable();
    } catch (e) {
      assert.instance(e, CiloError);
      assert.is((e as CiloError).exitCode, 2);
      assert.match((e as CiloError).message, /Unknown dns action "frobnicate"/);
    }
  } finally {
    process.stdout.write = write;
    await stopDns({ home, env: process.env });
  }
});

test.after(async () => {
  for (const h of homes) {
    if (existsSync(join(h, "dns"))) await stopDns({ home: h, env: process.env }).catch(() => {});
  }
  for (const pid of extraPids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // gone
    }
  }
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

test.run();
