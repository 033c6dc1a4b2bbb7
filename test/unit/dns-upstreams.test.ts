// Upstream resolvers for names outside the suffix (SPEC §5): from systemd-resolved or resolv.conf,
// never the stub, never cilo itself, never a hard-coded public resolver.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseNameservers, systemUpstreams } from "../../src/core/dns/upstreams.ts";
import { CiloError } from "../../src/core/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "cilo-dns-upstreams-"));
const missing = join(dir, "missing");

function fixture(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const resolved = fixture(
  "resolved.conf",
  "# This is /run/systemd/resolve/resolv.conf managed by man:systemd-resolved(8).\nnameserver 192.168.1.1\nnameserver fe80::1%enp3s0\nnameserver 192.168.1.1\nsearch lan\n",
);
const plain = fixture(
  "resolv.conf",
  "; comment\ndomain example.org\nnameserver 10.255.255.53 # office\nnameserver 2001:db8::53\nnameserver not-an-ip\noptions edns0\n",
);
const stubOnly = fixture("stub.conf", "# stub-resolv.conf\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n");
const withStubs = fixture("stubs.conf", "nameserver 127.0.0.54\nnameserver 127.0.0.53\nnameserver 127.0.0.1\nnameserver 10.0.0.1\n");
const noEnv = {};

test("systemd-resolved's upstream list wins over /etc/resolv.conf", () => {
  assert.equal(systemUpstreams({ port: 5354, resolvedFile: resolved, resolvConf: stubOnly, env: noEnv }), ["192.168.1.1", "fe80::1%enp3s0"]);
});

test("plain resolv.conf when systemd-resolved's list does not exist", () => {
  assert.equal(systemUpstreams({ port: 5354, resolvedFile: missing, resolvConf: plain, env: noEnv }), ["10.255.255.53", "2001:db8::53"]);
});

test("the resolved stub alone leaves nothing to forward to (dnsmasq then forwards nothing)", () => {
  assert.equal(systemUpstreams({ port: 5354, resolvedFile: missing, resolvConf: stubOnly, env: noEnv }), []);
  assert.equal(systemUpstreams({ port: 5354, resolvedFile: missing, resolvConf: missing, env: noEnv }), []);
});

test("stubs are skipped; 127.0.0.1 (port 53) stays unless cilo itself listens on 53", () => {
  assert.equal(systemUpstreams({ port: 5354, resolvedFile: withStubs, env: noEnv }), ["127.0.0.1", "10.0.0.1"]);
  assert.equal(systemUpstreams({ port: 53, resolvedFile: withStubs, env: noEnv }), ["10.0.0.1"]);
});

test("CILO_DNS_UPSTREAMS replaces discovery; cilo's own address is dropped", () => {
  const env = { CILO_DNS_UPSTREAMS: "127.0.0.1#15399, 10.0.0.2#53 127.0.0.1#5354,::1#5300" };
  assert.equal(systemUpstreams({ port: 5354, resolvedFile: resolved, env }), ["127.0.0.1#15399", "10.0.0.2", "::1#5300"]);
  assert.equal(systemUpstreams({ port: 5354, resolvedFile: resolved, env: { CILO_DNS_UPSTREAMS: "  " } }), ["192.168.1.1", "fe80::1%enp3s0"]);
  for (const bad of ["dns.google", "10.0.0.1#0", "10.0.0.1#x", "10.0.0.1#53#1"]) {
    try {
      systemUpstreams({ port: 5354, env: { CILO_DNS_UPSTREAMS: bad } });
      assert.unreachable(bad);
    } catch (e) {
      assert.instance(e, CiloError);
      assert.is((e as CiloError).exitCode, 2);
      assert.match((e as CiloError).message, /CILO_DNS_UPSTREAMS/);
    }
  }
});

test("parseNameservers keeps order and skips malformed lines", () => {
  assert.equal(parseNameservers("nameserver 192.0.2.1\nnameserver\n  nameserver   192.0.2.9  \n#nameserver 192.0.2.8\n"), ["192.0.2.1", "192.0.2.9"]);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
