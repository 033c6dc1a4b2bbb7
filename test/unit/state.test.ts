import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { migrate } from "../../src/core/state/migrations.ts";
import { emptyState, STATE_VERSION } from "../../src/core/state/schema.ts";
import { initState, readState, withState } from "../../src/core/state/store.ts";
import { validateState } from "../../src/core/state/validate.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/state/${name}`, import.meta.url), "utf8"));

test("migrates the v0 (Go implementation) fixture to the current version", () => {
  const { state, migrated } = migrate(fixture("v0.json"));
  assert.ok(migrated);
  assert.is(state.version, STATE_VERSION);
  assert.equal(validateState(state), []);
  assert.equal(Object.keys(state.envs).sort(), ["shop/feat-x", "shop/main"]);
  assert.is(state.envs["shop/feat-x"]!.subnet, "10.224.1.0/24");
  assert.is(state.envs["shop/feat-x"]!.status, "running");
  assert.is(state.envs["shop/main"]!.status, "stopped");
  assert.is(state.config.dns_port, 5399);
});

test("refuses a state from a newer cilo", () => {
  assert.throws(() => migrate({ version: STATE_VERSION + 1 }), /newer than this cilo/);
});

test("validation finds shared subnets and bad keys", () => {
  const s = emptyState();
  const rec = { project: "p", name: "a", status: "created" as const, subnet: "10.224.0.0/24", workspace: "/w", created_at: "", updated_at: "", services: [] };
  s.envs["p/a"] = rec;
  s.envs["p/b"] = { ...rec, name: "b" };
  assert.match(validateState(s).join("\n"), /share subnet/);
  s.envs["p/b"] = { ...rec, name: "c", subnet: "10.224.1.0/24" };
  assert.match(validateState(s).join("\n"), /has project\/name/);
});

test("withState writes atomically, keeps a backup, and a migrated v0 file is rewritten as current", async () => {
  const home = tempDir();
  try {
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, "state.json"), JSON.stringify(fixture("v0.json")));
    const before = readState(home);
    assert.is(before.version, STATE_VERSION);
    await withState((s) => {
      delete s.envs["shop/main"];
    }, home);
    const after = JSON.parse(readFileSync(join(home, "state.json"), "utf8"));
    assert.is(after.version, STATE_VERSION);
    assert.equal(Object.keys(after.envs), ["shop/feat-x"]);
    // The backup is the last good file before the write: the v0 original.
    const bak = JSON.parse(readFileSync(join(home, "state.json.bak"), "utf8"));
    assert.ok(bak.environments);
    assert.equal(readdirSync(home).filter((f) => f.endsWith(".tmp") || f.endsWith(".lock")), []);
  } finally {
    removeDir(home);
  }
});

test("a throwing fn writes nothing", async () => {
  const home = tempDir();
  try {
    await initState({}, home);
    const before = readFileSync(join(home, "state.json"), "utf8");
    await withState(() => {
      throw new Error("boom");
    }, home).then(
      () => assert.unreachable(),
      (e) => assert.is(e.message, "boom"),
    );
    assert.is(readFileSync(join(home, "state.json"), "utf8"), before);
    assert.not.ok(existsSync(join(home, "state.json.lock")));
  } finally {
    removeDir(home);
  }
});

test("a corrupt state names the file and the backup, and is not reset", async () => {
  const home = tempDir();
  try {
    await initState({}, home);
    await withState((s) => {
      s.config.dns_port = 5400;
    }, home);
    writeFileSync(join(home, "state.json"), '{"version": 1, "envs": {');
    assert.throws(() => readState(home), (e: any) => e.code === "E_STATE_CORRUPT" && e.message.includes(join(home, "state.json")) && e.hint.includes("state.json.bak"));
    await withState(() => {}, home).then(
      () => assert.unreachable(),
      (e) => assert.is(e.code, "E_STATE_CORRUPT"),
    );
    assert.is(readFileSync(join(home, "state.json"), "utf8"), '{"version": 1, "envs": {');
  } finally {
    removeDir(home);
  }
});

test("a missing state is 'not initialised', exit 3", () => {
  const home = tempDir();
  try {
    assert.throws(() => readState(home), (e: any) => e.code === "E_NOT_INITIALISED" && e.exitCode === 3);
  } finally {
    removeDir(home);
  }
});

test.run();
