// Security: a dns_suffix (or any other value) must never add a line to dnsmasq's config, the hosts
// files or the system-resolver hooks, nor name a file outside /etc/resolver. Checked where values
// enter (project config, cilo init, state read) and again where they are written.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseInitOptions } from "../../src/cli/commands/init.ts";
import { loadProjectConfig } from "../../src/core/config/project-config.ts";
import { dnsSuffix, isUpstream } from "../../src/core/dns-names.ts";
import { type DnsEnv, planDns, renderMainConfig, renderServersFile, renderWildcardConfig } from "../../src/core/dns/render.ts";
import { macosResolverFile, setupResolver } from "../../src/core/dns/setup.ts";
import { parseNameservers } from "../../src/core/dns/upstreams.ts";
import { CiloError } from "../../src/core/errors.ts";
import { resolverSuffixes } from "../../src/core/dns/from-state.ts";
import { emptyState } from "../../src/core/state/schema.ts";
import { validateState } from "../../src/core/state/validate.ts";

const INJECT = "test/\naddress=/#/6.6.6.6\nlog-facility=/tmp/cilo-dnsinj";
const BAD_SUFFIXES = [
  INJECT,
  "test\nlog-facility=/tmp/x",
  "test\r\nconf-file=/x",
  "a/b",
  "..",
  "../../etc/passwd",
  "..test",
  "test..",
  "a..b",
  "te st",
  " test",
  "te#st",
  "#",
  "te\u0000st",
  "tést",
  "-test",
  "test-",
  "a_b",
  "x".repeat(64),
  `${"a".repeat(60)}.`.repeat(5),
  "",
  ".",
];

const dirs: string[] = [];
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), "cilo-dnsinj-"));
  dirs.push(d);
  return d;
}

/** Exit 2, a one-line message with no control character. */
function refused(fn: () => unknown, what: string): CiloError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, CiloError, what);
    const err = e as CiloError;
    assert.is(err.exitCode, 2, `${what}: ${err.message}`);
    assert.not.match(err.message, /[\u0000-\u001f\u007f]/, `${what}: raw control character in ${JSON.stringify(err.message)}`);
    assert.is(err.hint?.match(/[\u0000-\u001f]/) ?? null, null, what);
    return err;
  }
  assert.unreachable(`${what} was accepted`);
  throw new Error("unreachable");
}

function mainConfig(over: Partial<Parameters<typeof renderMainConfig>[0]> = {}): string {
  return renderMainConfig({
    port: 5354,
    dir: "/h/dns/hosts",
    upstreams: ["10.0.0.1"],
    suffixes: ["test"],
    serversFile: "/h/dns/wildcards.servers",
    pidFile: "/h/dns/dnsmasq.pid",
    ...over,
  });
}

test("dnsSuffix: one leading/trailing dot and case are normalised; .test and test are the same", () => {
  for (const [input, want] of [
    ["test", "test"],
    [".test", "test"],
    ["test.", "test"],
    [".Test.", "test"],
    ["Local.Dev", "local.dev"],
    ["x1-y.z", "x1-y.z"],
    ["a".repeat(63), "a".repeat(63)],
  ]) {
    assert.is(dnsSuffix(input), want, input!);
  }
});

test("dnsSuffix refuses newlines, '/', '..', spaces, '#', too-long labels (exit 2, value JSON-escaped)", () => {
  for (const bad of BAD_SUFFIXES) refused(() => dnsSuffix(bad), JSON.stringify(bad));
  const err = refused(() => dnsSuffix(INJECT), "inject");
  assert.ok(err.message.includes(String.raw`"test/\naddress=/#/6.6.6.6\nlog-facility=/tmp/cilo-d`), err.message);
  assert.is(err.code, "E_DNS_INVALID_SUFFIX");
  assert.ok(refused(() => dnsSuffix("y".repeat(5000)), "long").message.length < 300, "long values are truncated");
});

test("renderMainConfig refuses a bad suffix and writes no line of it", () => {
  for (const bad of BAD_SUFFIXES) refused(() => mainConfig({ suffixes: ["test", bad] }), JSON.stringify(bad));
  assert.match(
    mainConfig({ suffixes: [".test", "test", "Dev."] }),
    /^local=\/dev\/\nlocal=\/test\/\nserver=10\.0\.0\.1\nservers-file=\/h\/dns\/wildcards\.servers\n$/m,
  );
});

test("planDns refuses an env's bad suffix, even when the env has no service with an address", () => {
  const env = (suffix: string, services: DnsEnv["services"]): DnsEnv => ({ project: "dnsinj", env: "x", suffix, services });
  for (const bad of BAD_SUFFIXES) {
    refused(() => planDns([env(bad, [])]), `no services ${JSON.stringify(bad)}`);
    refused(() => planDns([env(bad, [{ name: "web", ip: "10.0.0.2", ingress: true }])]), `services ${JSON.stringify(bad)}`);
  }
  for (const bad of ["a\nb", "a/b", "a b", "a#b", "x".repeat(64)]) {
    refused(() => planDns([env("test", [{ name: bad, ip: "10.0.0.2" }])]), `service ${JSON.stringify(bad)}`);
    refused(() => planDns([env("test", [{ name: "web", ip: "10.0.0.2", hostnames: [bad] }])]), `hostname ${JSON.stringify(bad)}`);
  }
  refused(() => planDns([env("test", [{ name: "web", ip: "10.0.0.2\naddress=/#/1.1.1.1" }])]), "ip");
  refused(() => planDns([{ project: "a\nb", env: "x", suffix: "test", services: [] }]), "project");
});

test("renderMainConfig checks every other value too: port, paths, upstreams, wildcard lines", () => {
  for (const port of [0, 65536, 1.5, NaN, "53\nuser=root" as unknown as number]) refused(() => mainConfig({ port }), `port ${String(port)}`);
  for (const path of ["relative/pid", "/h/x\nlog-facility=/tmp/x", "/h/a#b", '/h/"q"', "/h/a\\b", " /h/x", "/h/x\r"]) {
    refused(() => mainConfig({ pidFile: path }), `pid-file ${JSON.stringify(path)}`);
    refused(() => mainConfig({ dir: path }), `hostsdir ${JSON.stringify(path)}`);
  }
  for (const u of [
    "10.0.0.1\naddress=/#/6.6.6.6",
    "example.com",
    "10.0.0.1#0",
    "10.0.0.1#70000",
    "10.0.0.1#53#1",
    "10.0.0.1%eth0",
    "fe80::1%a/b",
    "",
    "10.0.0.1 ",
  ]) {
    refused(() => mainConfig({ upstreams: [u] }), `upstream ${JSON.stringify(u)}`);
  }
  for (const w of ["address=/#/6.6.6.6\n", "address=/a.test/10.0.0.1\nlog-facility=/tmp/x\n", "server=/a/1.1.1.1\n", "address=/a.test/not-an-ip\n"]) {
    refused(() => renderWildcardConfig({ port: 5355, pidFile: "/h/dns/w.pid", wildcards: w }), `wildcards ${JSON.stringify(w)}`);
    refused(() => renderServersFile(w, 5355), `servers file of ${JSON.stringify(w)}`);
  }
  refused(() => mainConfig({ serversFile: "/h/dns/x\nlog-facility=/tmp/x" }), "servers file path");
  const ok = mainConfig({ upstreams: ["10.0.0.1", "127.0.0.1#5300", "fe80::1%eth0", "::1#53"] });
  assert.match(ok, /server=fe80::1%eth0\nserver=::1#53\nservers-file=\/h\/dns\/wildcards\.servers\n$/);
  assert.match(
    renderWildcardConfig({ port: 5355, pidFile: "/h/dns/w.pid", wildcards: "address=/shop.x.test/10.0.0.3\n" }),
    /address=\/shop\.x\.test\/10\.0\.0\.3\n/,
  );
});

test("upstreams read from resolv.conf: only addresses (and sane IPv6 zones) are kept", () => {
  assert.equal(parseNameservers("nameserver 10.0.0.1\nnameserver fe80::1%eth0\nnameserver fe80::2%a/b=c\nnameserver 10.0.0.2%x\nnameserver evil\n"), [
    "10.0.0.1",
    "fe80::1%eth0",
  ]);
  assert.ok(isUpstream("127.0.0.1#5300"));
  assert.not.ok(isUpstream("127.0.0.1#5300\nx"));
});

/** Every file under `dir`, relative. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p.slice(dir.length + 1));
    }
  };
  walk(dir);
  return out.sort();
}

function seeded(files: Record<string, string>): string {
  const r = temp();
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(r, p)), { recursive: true });
    writeFileSync(join(r, p), c);
  }
  return r;
}

test("cilo dns setup refuses a bad suffix for every resolver, as root, and writes nothing", () => {
  const machines: [string, NodeJS.Platform, Record<string, string>][] = [
    ["systemd-resolved", "linux", { "etc/resolv.conf": "nameserver 127.0.0.53\n" }],
    ["networkmanager-dnsmasq", "linux", { "etc/NetworkManager/NetworkManager.conf": "[main]\ndns=dnsmasq\n", "etc/resolv.conf": "nameserver 127.0.0.1\n" }],
    ["macos-resolver", "darwin", {}],
  ];
  for (const [method, platform, files] of machines) {
    for (const bad of BAD_SUFFIXES) {
      const r = seeded(files);
      const before = filesUnder(r);
      refused(() => setupResolver({ suffix: ["test", bad], port: 5354, root: r, platform, uid: 0 }), `${method} ${JSON.stringify(bad)}`);
      refused(() => setupResolver({ suffix: bad, port: 5354, root: r, platform, uid: 0, printManual: true }), `${method} manual ${JSON.stringify(bad)}`);
      assert.equal(filesUnder(r), before, `${method}: nothing written for ${JSON.stringify(bad)}`);
    }
    const r = seeded(files);
    refused(() => setupResolver({ suffix: "test", port: "5354\nDNS=6.6.6.6" as unknown as number, root: r, platform, uid: 0 }), `${method} port`);
    assert.equal(filesUnder(r), filesUnder(seeded(files)));
    const ok = setupResolver({ suffix: [".Test", "test."], port: 5354, root: r, platform, uid: 0 });
    assert.is(ok.method, method as any);
    for (const f of ok.files) assert.not.match(f.content, /\.\.|\/#|address=|log-facility/);
  }
});

test("the macOS resolver file can never leave <root>/etc/resolver", () => {
  const r = temp();
  assert.is(macosResolverFile(r, ".Test"), join(r, "etc/resolver/test"));
  assert.is(macosResolverFile(r, "local.dev"), join(r, "etc/resolver/local.dev"));
  for (const bad of ["../x", "..", "../../etc/passwd", "a/../../b", "/etc/passwd", "x/y", ".", ""])
    refused(() => macosResolverFile(r, bad), JSON.stringify(bad));
  const res = setupResolver({ suffix: ["test", "dev"], port: 5354, root: r, platform: "darwin" });
  for (const f of res.files) assert.is(dirname(f.path), join(r, "etc/resolver"));
});

test("cilo init --dns-suffix refuses a bad suffix with exit 2 and one line", () => {
  assert.is(parseInitOptions({ dnsSuffix: ".Test" }).dns_suffix, "test");
  for (const bad of BAD_SUFFIXES) refused(() => parseInitOptions({ dnsSuffix: bad }), JSON.stringify(bad));
});

test("project config: a bad dns_suffix or hostname is refused on load (.cilo/config.yml and cilo.jsonc)", async () => {
  const load = async (file: string, text: string) => {
    const d = temp();
    mkdirSync(dirname(join(d, file)), { recursive: true });
    writeFileSync(join(d, file), text);
    return loadProjectConfig(d);
  };
  const refusedAsync = async (p: Promise<unknown>, what: string) => {
    let err: unknown;
    await p.catch((e) => (err = e));
    refused(() => {
      if (err) throw err;
    }, what);
  };
  await refusedAsync(load(".cilo/config.yml", `dns_suffix: ${JSON.stringify(INJECT)}\n`), "yaml inject");
  await refusedAsync(load("cilo.jsonc", `{ // c\n "dns_suffix": ${JSON.stringify(INJECT)} }\n`), "jsonc inject");
  for (const bad of ["../x", "a b", "te#st", "x".repeat(64)]) await refusedAsync(load(".cilo/config.yml", `dns_suffix: ${JSON.stringify(bad)}\n`), bad);
  await refusedAsync(load(".cilo/config.yml", `hostnames:\n  web: ["admin\\naddress=/#/6.6.6.6"]\n`), "hostname");
  await refusedAsync(load(".cilo/config.yml", `hostnames:\n  web: "ok, a/b"\n`), "hostname string");
  await refusedAsync(load(".cilo/config.yml", `hostnames:\n  "web\\nx": ["ok"]\n`), "hostname service");
  assert.is((await load(".cilo/config.yml", "dns_suffix: .Shop.Test\n")).config.dns_suffix, "shop.test");
  // A project may not claim a public domain for `sudo cilo dns setup` to send to cilo.
  for (const pub of ["com", "dev", "github.com", "test.com"]) await refusedAsync(load(".cilo/config.yml", `dns_suffix: ${pub}\n`), `public ${pub}`);
  for (const ok of ["test", "localhost", "x.internal", "home.arpa"]) assert.is((await load(".cilo/config.yml", `dns_suffix: ${ok}\n`)).config.dns_suffix, ok);
  assert.equal((await load("cilo.jsonc", `{"hostnames": {"web": "Admin, admin.shop"}}`)).config.hostnames, { web: ["admin", "admin.shop"] });
});

test("state validation on read refuses injected suffixes, service names, hostnames and addresses", () => {
  const base = () => {
    const s = emptyState("testhome") as any;
    s.envs["dnsinj/x"] = {
      project: "dnsinj",
      name: "x",
      docker_name: "cilo_testhome_dnsinj_x",
      status: "running",
      subnet: "10.224.9.0/24",
      workspace: "/w",
      created_at: "t",
      updated_at: "t",
      services: [{ name: "web", ip: "10.224.9.2", hostnames: ["admin"] }],
    };
    return s;
  };
  assert.equal(validateState(base()), []);
  const cases: [string, (s: any) => void][] = [
    ["config suffix", (s) => (s.config.dns_suffix = INJECT)],
    ["config suffix ..", (s) => (s.config.dns_suffix = "../x")],
    ["env suffix", (s) => (s.envs["dnsinj/x"].dns_suffix = INJECT)],
    ["service name", (s) => (s.envs["dnsinj/x"].services[0].name = "web\naddress=/#/6.6.6.6")],
    ["service ip", (s) => (s.envs["dnsinj/x"].services[0].ip = "10.0.0.1\nx")],
    ["service hostname", (s) => (s.envs["dnsinj/x"].services[0].hostnames = ["a b"])],
    ["custom hostnames", (s) => (s.envs["dnsinj/x"].hostnames = { web: ["x\nlog-facility=/tmp/x"] })],
  ];
  for (const [what, tamper] of cases) {
    const s = base();
    tamper(s);
    const problems = validateState(s);
    assert.ok(problems.length > 0, what);
    for (const p of problems) assert.not.match(p, /[\u0000-\u001f]/, `${what}: ${JSON.stringify(p)}`);
  }
  const ok = base();
  ok.config.dns_suffix = ".Test";
  assert.equal(validateState(ok), [], "a normalisable suffix is accepted");
});

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
test("dns setup wires the machine's suffix and env suffixes under private-use names only", () => {
  const s = emptyState("testhome") as any;
  s.config.dns_suffix = "corp.example.com";
  const rec = (name: string, dns_suffix: string) => ({
    project: "p",
    name,
    docker_name: `cilo_p_${name}`,
    status: "running",
    subnet: `10.224.${name.length}.0/24`,
    workspace: "/w",
    created_at: "t",
    updated_at: "t",
    services: [],
    dns_suffix,
  });
  s.envs["p/a"] = rec("a", "shop.test");
  s.envs["p/bb"] = rec("bb", "com");
  assert.equal(resolverSuffixes(s), { suffixes: ["corp.example.com", "shop.test"], skipped: ["com"] });
});

test.run();
