// `cilo dns setup` (SPEC §5): the system resolver hook per platform, written under a stand-in root.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { detectResolver, setupResolver, teardownResolver } from "../../src/core/dns/setup.ts";
import { CiloError } from "../../src/core/errors.ts";

const dirs: string[] = [];

function root(files: Record<string, string> = {}): string {
  const r = mkdtempSync(join(tmpdir(), "cilo-dns-setup-"));
  dirs.push(r);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(r, path)), { recursive: true });
    writeFileSync(join(r, path), content);
  }
  return r;
}

test("teardown removes every file setup wrote, on every resolver, and keeps files cilo did not write", () => {
  const r = root({ "etc/resolv.conf": "nameserver 127.0.0.53\n", "etc/resolver/corp": "nameserver 10.0.0.1\n" });
  setupResolver({ suffix: "test", port: 5354, root: r, platform: "linux", uid: 1000 });
  setupResolver({ suffix: ["test", "internal"], port: 5354, root: r, platform: "darwin", uid: 1000 });
  mkdirSync(join(r, "etc/NetworkManager/dnsmasq.d"), { recursive: true });
  writeFileSync(join(r, "etc/NetworkManager/dnsmasq.d/cilo.conf"), "server=/corp/10.0.0.1\n");
  const dry = teardownResolver({ root: r, dryRun: true });
  assert.equal(dry.removed, [join(r, "etc/systemd/resolved.conf.d/cilo.conf"), join(r, "etc/resolver/internal"), join(r, "etc/resolver/test")]);
  assert.ok(existsSync(join(r, "etc/resolver/test")), "a dry run removes nothing");
  const res = teardownResolver({ root: r, uid: 1000 });
  assert.equal(res.removed, dry.removed);
  assert.equal(res.kept, [join(r, "etc/NetworkManager/dnsmasq.d/cilo.conf")], "a file at cilo's path without its header is kept");
  assert.equal(res.reload, ["systemctl restart systemd-resolved"]);
  for (const f of res.removed) assert.not.ok(existsSync(f));
  assert.is(readFileSync(join(r, "etc/resolver/corp"), "utf8"), "nameserver 10.0.0.1\n", "other resolver files untouched");
  assert.is(readFileSync(join(r, "etc/NetworkManager/dnsmasq.d/cilo.conf"), "utf8"), "server=/corp/10.0.0.1\n");
  assert.equal(teardownResolver({ root: r }).removed, [], "idempotent");
});

test("teardown with nothing to remove succeeds for any user", () => {
  const r = root({ "etc/resolv.conf": "nameserver 127.0.0.53\n" });
  assert.equal(teardownResolver({ root: r, uid: 1000 }), { removed: [], kept: [], reload: [] });
});

test("systemd-resolved: drop-in with DNS=127.0.0.1:<port> and a routing domain per suffix", () => {
  const r = root({ "run/systemd/resolve/stub-resolv.conf": "nameserver 127.0.0.53\n" });
  mkdirSync(join(r, "etc"), { recursive: true });
  symlinkSync("../run/systemd/resolve/stub-resolv.conf", join(r, "etc/resolv.conf"));
  const res = setupResolver({ suffix: "test", port: 5354, root: r, platform: "linux", uid: 1000 });
  assert.is(res.method, "systemd-resolved");
  assert.is(res.reload, "systemctl restart systemd-resolved");
  assert.ok(res.written);
  const file = join(r, "etc/systemd/resolved.conf.d/cilo.conf");
  assert.equal(
    res.files.map((f) => f.path),
    [file],
  );
  assert.is(readFileSync(file, "utf8"), "# cilo: send .test to cilo's dnsmasq (written by cilo dns setup)\n[Resolve]\nDNS=127.0.0.1:5354\nDomains=~test\n");
  const again = setupResolver({ suffix: "test", port: 5354, root: r, platform: "linux" });
  assert.is(again.written, false, "idempotent");
  setupResolver({ suffix: ["test", ".dev"], port: 5400, root: r, platform: "linux" });
  assert.match(readFileSync(file, "utf8"), /DNS=127\.0\.0\.1:5400\nDomains=~dev ~test\n$/);
});

test("systemd-resolved is recognised from a resolv.conf naming the stub, or a running stub", () => {
  assert.is(detectResolver(root({ "etc/resolv.conf": "nameserver 127.0.0.53\noptions edns0\n" }), "linux"), "systemd-resolved");
  assert.is(detectResolver(root({ "etc/resolv.conf": "nameserver 10.0.0.1\n", "run/systemd/resolve/stub-resolv.conf": "" }), "linux"), "systemd-resolved");
  assert.is(detectResolver(root({ "etc/resolv.conf": "nameserver 10.0.0.1\n" }), "linux"), null);
  assert.is(detectResolver(root(), "win32"), null);
});

test("NetworkManager with dnsmasq: server=/<suffix>/127.0.0.1#<port>", () => {
  for (const conf of ["etc/NetworkManager/NetworkManager.conf", "etc/NetworkManager/conf.d/dns.conf"]) {
    const r = root({ [conf]: "[main]\nplugins=ifupdown,keyfile\ndns=dnsmasq\n", "etc/resolv.conf": "nameserver 127.0.0.1\n" });
    const res = setupResolver({ suffix: "test", port: 5354, root: r, platform: "linux", uid: 0 });
    assert.is(res.method, "networkmanager-dnsmasq");
    assert.is(res.reload, "systemctl restart NetworkManager");
    assert.is(
      readFileSync(join(r, "etc/NetworkManager/dnsmasq.d/cilo.conf"), "utf8"),
      "# cilo: send .test to cilo's dnsmasq (written by cilo dns setup)\nserver=/test/127.0.0.1#5354\n",
    );
  }
  assert.is(detectResolver(root({ "etc/NetworkManager/NetworkManager.conf": "[main]\ndns=default\n" }), "linux"), null);
});

test("macOS: /etc/resolver/<suffix> with nameserver and port", () => {
  const r = root();
  const res = setupResolver({ suffix: ["test", "dev"], port: 5354, root: r, platform: "darwin" });
  assert.is(res.method, "macos-resolver");
  assert.is(res.reload, null);
  for (const s of ["test", "dev"]) {
    assert.is(
      readFileSync(join(r, "etc/resolver", s), "utf8"),
      "# cilo: send .dev .test to cilo's dnsmasq (written by cilo dns setup)\nnameserver 127.0.0.1\nport 5354\n",
    );
  }
});

test("--print-manual writes nothing and says what to do", () => {
  const r = root({ "etc/resolv.conf": "nameserver 127.0.0.53\n" });
  const res = setupResolver({ suffix: "test", port: 5354, root: r, platform: "linux", printManual: true, uid: 1000 });
  assert.is(res.written, false);
  assert.not.ok(existsSync(join(r, "etc/systemd/resolved.conf.d/cilo.conf")));
  assert.match(res.manual, /Write .*etc\/systemd\/resolved\.conf\.d\/cilo\.conf \(as root\) with:/);
  assert.match(res.manual, /DNS=127\.0\.0\.1:5354/);
  assert.match(res.manual, /Then run: sudo systemctl restart systemd-resolved/);

  const none = setupResolver({ suffix: "test", port: 5354, root: root(), platform: "linux", printManual: true });
  assert.is(none.method, null);
  for (const re of [/With systemd-resolved/, /With NetworkManager/, /On macOS/, /dig @127\.0\.0\.1 -p 5354/]) assert.match(none.manual, re);
});

test("no known resolver: exit 3 pointing at --print-manual", () => {
  try {
    setupResolver({ suffix: "test", port: 5354, root: root(), platform: "linux" });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, CiloError);
    assert.is((e as CiloError).exitCode, 3);
    assert.match((e as CiloError).hint ?? "", /--print-manual/);
  }
});

test("writing to the real root as a normal user is refused (exit 3, sudo hint), nothing written", () => {
  try {
    setupResolver({ suffix: "test", port: 5354, platform: "darwin", uid: 1000 });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, CiloError);
    assert.is((e as CiloError).exitCode, 3);
    assert.is((e as CiloError).message, "cilo dns setup needs root to write /etc/resolver/test");
    assert.match((e as CiloError).hint ?? "", /sudo cilo dns setup.*--print-manual/);
  }
  assert.not.ok(existsSync("/etc/resolver/test"));
});

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
test.run();
