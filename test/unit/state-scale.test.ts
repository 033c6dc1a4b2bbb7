// Costs that must stay flat (or linear) in the number of envs (issue 16): the answers of the
// one-pass versions must be those of the per-env ones they replace.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFilesAtomic } from "../../src/core/fs/atomic-write.ts";
import { dependantsIndex, dependantsOf } from "../../src/core/shared/dependants.ts";
import { emptyState, envKey, type EnvRecord } from "../../src/core/state/schema.ts";
import { initState, readState, withState } from "../../src/core/state/store.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";

const at = (home: string) => ({ home, env: {} });

function envRec(project: string, name: string, i: number, shared_networks?: string[]): EnvRecord {
  return {
    project,
    name,
    docker_name: `cilo_${project}_${name}`, // the form of envs made before homes had ids: valid in any home
    status: "created",
    subnet: `10.${100 + (i >> 8)}.${i & 255}.0/24`,
    workspace: `/w/${project}/${name}`,
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z",
    services: [],
    ...(shared_networks ? { shared_networks } : {}),
  };
}

test("dependantsIndex gives every env the dependants dependantsOf gives it, sorted", () => {
  const state = emptyState("testhome");
  for (let i = 0; i < 60; i++) {
    const joins = i % 3 === 0 ? [] : [`p${i % 2}/e${i % 7}`, ...(i % 5 === 0 ? [`p0/e${(i + 1) % 7}`] : [])];
    const rec = envRec(`p${i % 2}`, `e${i}`, i, joins.length ? joins : undefined);
    state.envs[envKey(rec.project, rec.name)] = rec;
  }
  const index = dependantsIndex(state);
  let nonEmpty = 0;
  for (const rec of Object.values(state.envs)) {
    const expected = dependantsOf(state, rec);
    if (expected.length) nonEmpty++;
    assert.equal(index.get(envKey(rec.project, rec.name)) ?? [], expected, envKey(rec.project, rec.name));
  }
  assert.ok(nonEmpty >= 5, "the fixture has envs with dependants");
});

test("state is written compact; an indented file of an earlier version reads and changes the same", async () => {
  const home = tempDir();
  try {
    await initState(at(home), {});
    const file = join(home, "state.json");
    const compact = readFileSync(file, "utf8");
    assert.is(compact.split("\n").length, 2, "one line and its newline");
    writeFileSync(file, `${JSON.stringify(JSON.parse(compact), null, 2)}\n`);
    const { index: _index, ...home0 } = JSON.parse(compact);
    assert.equal(JSON.parse(JSON.stringify(readState(at(home)))), { ...home0, envs: {} });
    await withState(at(home), (s) => {
      s.envs["p/a"] = envRec("p", "a", 1);
    });
    assert.equal(Object.keys(JSON.parse(readFileSync(file, "utf8")).index), ["p/a"]);
  } finally {
    removeDir(home);
  }
});

test("what this process wrote is not validated again, but a file another writer changed is, even at the same length", async () => {
  const home = tempDir();
  try {
    await initState(at(home), {});
    await withState(at(home), (s) => {
      s.envs["p/a"] = envRec("p", "a", 1);
      s.envs["p/b"] = envRec("p", "b", 2);
    });
    const file = join(home, "state.json");
    const text = readFileSync(file, "utf8");
    assert.is(readState(at(home)).envs["p/b"]!.subnet, "10.100.2.0/24");
    const first = readState(at(home));
    assert.ok(readState(at(home)).config === first.config, "an unchanged index is parsed once for readers");
    assert.ok(readState(at(home)).envs["p/b"] === first.envs["p/b"], "an unchanged record is parsed once for readers");
    // Another writer: p/b now claims p/a's subnet in the index (same length), which validation refuses.
    writeFileSync(file, text.replace('"10.100.2.0/24"', '"10.100.1.0/24"'));
    assert.throws(
      () => readState(at(home)),
      (e: any) => e.code === "E_STATE_CORRUPT" && /share subnet/.test(e.message),
    );
    await withState(at(home), () => {}).then(
      () => assert.unreachable(),
      (e) => assert.is(e.code, "E_STATE_CORRUPT"),
    );
    writeFileSync(file, text);
    // A record changed by another writer (same length) is seen at once, and validated.
    const rec = join(home, "records/p/b.json");
    const recText = readFileSync(rec, "utf8");
    writeFileSync(rec, recText.replace('"created"', '"stopped"'));
    assert.is(readState(at(home)).envs["p/b"]!.status, "stopped");
    writeFileSync(rec, recText.replace('"created"', '"flying"'));
    assert.throws(
      () => readState(at(home)).envs["p/b"],
      (e: any) => e.code === "E_STATE_CORRUPT" && e.message.includes(rec) && /unknown status/.test(e.message),
    );
    writeFileSync(rec, recText);
    await withState(at(home), (s) => {
      s.envs["p/b"]!.status = "stopped";
    });
    assert.is(readState(at(home)).envs["p/b"]!.status, "stopped");
    assert.is(JSON.parse(readFileSync(file, "utf8")).index["p/b"].status, "stopped", "the index follows the record");
  } finally {
    removeDir(home);
  }
});

test("writeFilesAtomic writes a batch and leaves no temp file; a failed batch names the file and leaves no temp file either", () => {
  const dir = tempDir();
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "a.hosts"), "old\n");
    writeFilesAtomic(dir, [
      ["a.hosts", "new a\n"],
      ["b.hosts", "new b\n"],
    ]);
    assert.equal(readdirSync(dir).sort(), ["a.hosts", "b.hosts"]);
    assert.is(readFileSync(join(dir, "a.hosts"), "utf8"), "new a\n");
    mkdirSync(join(dir, "c.hosts", "inside"), { recursive: true }); // a folder cannot be replaced by a file
    assert.throws(
      () =>
        writeFilesAtomic(dir, [
          ["b.hosts", "newer b\n"],
          ["c.hosts", "c\n"],
        ]),
      (e: any) => String(e.message).length > 0,
    );
    assert.equal(readdirSync(dir).sort(), ["a.hosts", "b.hosts", "c.hosts"]);
  } finally {
    removeDir(dir);
  }
});

test.run();
