// Which processes are a home's dnsmasq (what `cilo dns stop` and doctor's `dns-stray` may signal),
// and the DNS lock's holder learning at once that it was taken over (what keeps a stalled apply
// from starting a dnsmasq after a `cilo dns stop` that took the lock meanwhile).
import { mkdirSync, mkdtempSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { homeDnsmasqOf } from "../../src/core/dns/dnsmasq.ts";
import { lockFolderIdentity, withFileLock } from "../../src/core/fs/file-lock.ts";

const dir = "/home/u/.cilo/dns";

test("homeDnsmasqOf: the front and a wildcard instance of this home's dns folder", () => {
  assert.equal(homeDnsmasqOf(["/usr/sbin/dnsmasq", `--conf-file=${dir}/dnsmasq.conf`, "--user=root"], dir), {
    role: "front",
    config: `${dir}/dnsmasq.conf`,
  });
  assert.equal(homeDnsmasqOf(["dnsmasq", `--conf-file=${dir}/wildcards-40123.conf`], dir), {
    role: "wildcards",
    config: `${dir}/wildcards-40123.conf`,
    port: 40123,
  });
  // CILO_DNSMASQ may name a binary called otherwise: the one cilo starts counts too.
  assert.ok(homeDnsmasqOf(["/opt/x/dns-server", `--conf-file=${dir}/dnsmasq.conf`], dir, "/opt/x/dns-server"));
});

test("homeDnsmasqOf: never another home's, another program, or a config that only looks alike", () => {
  const no = (argv: string[], why: string) => assert.is(homeDnsmasqOf(argv, dir), undefined, why);
  no(["/usr/sbin/dnsmasq", "--conf-file=/home/u/.cilo-2/dns/dnsmasq.conf"], "another home");
  no(["/usr/sbin/dnsmasq", `--conf-file=${dir}/sub/dnsmasq.conf`], "below the dns folder");
  no(["/usr/sbin/dnsmasq", `--conf-file=${dir}/dnsmasq.conf.bak`], "another file");
  no(["/usr/sbin/dnsmasq", `--conf-file=${dir}/wildcards-0.conf`], "port 0");
  no(["/usr/sbin/dnsmasq", `--conf-file=${dir}/wildcards-70000.conf`], "port over 65535");
  no(["/usr/sbin/dnsmasq", `--conf-file=${dir}/wildcards-1x.conf`], "not a port");
  no(["/usr/sbin/dnsmasq", `--conf-file=${dir}/wildcards-../dnsmasq.conf`], "a path trick");
  no(["/usr/bin/vim", `--conf-file=${dir}/dnsmasq.conf`], "not dnsmasq");
  no(["/usr/sbin/dnsmasq", `--conf-file=${dir}/dnsmasq.conf`, "--conf-file=/etc/dnsmasq.conf"], "two configs");
  no(["/usr/sbin/dnsmasq", "-C", `${dir}/dnsmasq.conf`], "cilo always passes --conf-file=");
  no([], "no command line (gone, or not readable)");
});

test("withFileLock: isCompromised() turns true at once when the lock folder is replaced (taken over), not before", async () => {
  const home = mkdtempSync(join(tmpdir(), "cilo-lock-unit-"));
  try {
    const file = join(home, "x.conf");
    await withFileLock(file, 5_000, async (isCompromised) => {
      assert.is(isCompromised(), false);
      const mine = lockFolderIdentity(file);
      assert.ok(mine);
      // What a takeover does: removes the stale folder and makes its own (the inode may be reused).
      rmdirSync(`${file}.lock`);
      mkdirSync(`${file}.lock`);
      assert.is.not(lockFolderIdentity(file), mine);
      assert.is(isCompromised(), true, "told synchronously, before proper-lockfile's next refresh");
    });
    await withFileLock(file, 5_000, async (isCompromised) => {
      rmdirSync(`${file}.lock`);
      assert.is(isCompromised(), true, "the folder gone");
    });
    await withFileLock(file, 5_000, async (isCompromised) => {
      await new Promise((r) => setTimeout(r, 1_200)); // proper-lockfile refreshes the mtime meanwhile
      assert.is(isCompromised(), false, "its own refresh is not a takeover");
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test.run();
