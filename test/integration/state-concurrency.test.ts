// Real processes racing on one CILO_HOME (SPEC §2 invariant 4).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, ciloAsync, removeDir, tempDir } from "../helpers/cli.ts";
import { LOCK_STALE_MS } from "../../src/core/fs/file-lock.ts";
import { STATE_VERSION } from "../../src/core/state/schema.ts";

function project(home: string): string {
  const dir = join(home, "proj");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "compose.yml"), "services:\n  app:\n    image: cilo-test/busybox:latest\n    command: sleep 3600\n");
  return dir;
}

function listJson(home: string): any[] {
  const r = cilo(["list", "--format", "json"], { home });
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function assertCleanHome(home: string) {
  const state = JSON.parse(readFileSync(join(home, "state.json"), "utf8"));
  assert.is(state.version, STATE_VERSION);
  assert.not.ok(existsSync(join(home, "state.json.lock")), "lock left behind");
  assert.equal(
    readdirSync(home).filter((f) => f.endsWith(".tmp")),
    [],
    "temp files left behind",
  );
  return state;
}

test("100 separate processes of cilo create: all listed, 100 distinct subnets, valid state, no lock left", async () => {
  const home = tempDir();
  try {
    assert.is(cilo(["init"], { home }).code, 0);
    const dir = project(home);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => ciloAsync(["create", `env-${i}`, "--from", dir, "--project", "race"], { home })));
    const failed = results.filter((r) => r.code !== 0);
    assert.is(failed.length, 0, failed.map((r) => r.stderr).join("\n"));
    const envs = listJson(home);
    assert.is(envs.length, 100);
    assert.is(new Set(envs.map((e) => e.name)).size, 100);
    assert.is(new Set(envs.map((e) => e.subnet)).size, 100);
    assertCleanHome(home);
    console.log(
      `100 concurrent creates: ${results.filter((r) => r.code === 0).length} exit 0, ${envs.length} listed, ${new Set(envs.map((e) => e.subnet)).size} distinct subnets, no lock or temp file left`,
    );
  } finally {
    removeDir(home);
  }
});

test("50 creates racing 50 destroys of other envs", async () => {
  const home = tempDir();
  try {
    assert.is(cilo(["init"], { home }).code, 0);
    const dir = project(home);
    for (let i = 0; i < 50; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, (_, j) => ciloAsync(["create", `old-${i + j}`, "--from", dir, "--project", "race"], { home })),
      );
      assert.ok(batch.every((r) => r.code === 0));
    }
    const oldSubnets = new Set(listJson(home).map((e) => e.subnet));
    const ops = [
      ...Array.from({ length: 50 }, (_, i) => ciloAsync(["create", `new-${i}`, "--from", dir, "--project", "race"], { home })),
      ...Array.from({ length: 50 }, (_, i) => ciloAsync(["destroy", `race/old-${i}`, "--force"], { home })),
    ];
    const results = await Promise.all(ops);
    const failed = results.filter((r) => r.code !== 0);
    assert.is(failed.length, 0, failed.map((r) => r.stderr).join("\n"));
    const envs = listJson(home);
    console.log(
      `50 creates racing 50 destroys: ${results.filter((r) => r.code === 0).length}/100 exit 0, ${envs.length} envs left, ${new Set(envs.map((e) => e.subnet)).size} distinct subnets`,
    );
    assert.equal(envs.map((e) => e.name).sort(), Array.from({ length: 50 }, (_, i) => `new-${i}`).sort());
    assert.is(new Set(envs.map((e) => e.subnet)).size, 50);
    assertCleanHome(home);
    // Freed subnets are handed out again, lowest first. Whether the racing creates got any depends
    // on the order the lock was taken in; the next create must get one unless they took them all.
    const next = cilo(["create", "next", "--from", dir, "--project", "race"], { home });
    assert.is(next.code, 0, next.stderr);
    const nextSubnet = listJson(home).find((e) => e.name === "next")!.subnet;
    const reused = envs.filter((e) => oldSubnets.has(e.subnet)).length;
    assert.ok(reused === 50 || oldSubnets.has(nextSubnet), `next got ${nextSubnet}; the racing creates reused ${reused} of 50 freed subnets`);
    assert.not.ok(
      envs.some((e) => e.subnet === nextSubnet),
      "next got a subnet already in use",
    );
  } finally {
    removeDir(home);
  }
});

test("SIGKILL while holding the lock does not wedge the next command beyond the stale timeout (5 s, +1 s of mtime probe)", async () => {
  const home = tempDir();
  try {
    assert.is(cilo(["init"], { home }).code, 0);
    const dir = project(home);
    const killed = cilo(["create", "victim", "--from", dir], { home, env: { CILO_FAILPOINT: "state:locked" } });
    assert.is(killed.code, 128, "the failpoint should have killed the process");
    assert.ok(existsSync(join(home, "state.json.lock")), "the dead holder's lock should be there");
    const started = Date.now();
    const next = cilo(["create", "survivor", "--from", dir], { home });
    const waited = Date.now() - started;
    assert.is(next.code, 0, next.stderr);
    assert.equal(
      listJson(home).map((e) => e.name),
      ["survivor"],
    );
    // The same create with no dead holder, to tell the wait for the lock from the create's own time.
    const t1 = Date.now();
    assert.is(cilo(["create", "plain", "--from", dir], { home }).code, 0);
    const plain = Date.now() - t1;
    console.log(
      `after a SIGKILLed lock holder the next create finished in ${waited} ms (stale timeout 5 s, a fresh lock dated up to 1 s ahead; the same create unblocked: ${plain} ms)`,
    );
    // docs/state.md: 5 to 6 s (printed above). The assertion only proves the lock is not wedged (a
    // wedged lock waits out the 120 s lock timeout); timing itself is not asserted on a shared machine.
    assert.ok(waited - plain < 2 * LOCK_STALE_MS, `waited ${waited} ms, of which the create itself takes about ${plain} ms`);
    assertCleanHome(home);
  } finally {
    removeDir(home);
  }
});

test("a crash between temp write and rename leaves the previous state readable", () => {
  const home = tempDir();
  try {
    assert.is(cilo(["init"], { home }).code, 0);
    const dir = project(home);
    assert.is(cilo(["create", "before", "--from", dir], { home }).code, 0);
    const before = readFileSync(join(home, "state.json"), "utf8");
    const crashed = cilo(["create", "during", "--from", dir], { home, env: { CILO_FAILPOINT: "atomic-write:before-rename" } });
    assert.is(crashed.code, 128);
    assert.is(readFileSync(join(home, "state.json"), "utf8"), before);
    assert.equal(
      listJson(home).map((e) => e.name),
      ["before"],
    );
    // The torn temp file (of the env's record: records are written before the index names them)
    // is there but never read; the next write succeeds.
    assert.ok((readdirSync(home, { recursive: true }) as string[]).some((f) => f.endsWith(".tmp")));
    const after = cilo(["create", "after", "--from", dir], { home });
    assert.is(after.code, 0, after.stderr);
    assert.equal(
      listJson(home).map((e) => e.name),
      ["after", "before"],
    );
  } finally {
    removeDir(home);
  }
});

test.run();
