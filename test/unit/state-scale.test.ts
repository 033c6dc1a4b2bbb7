// Costs that must stay flat (or linear) in the number of envs (issue 16): the answers of the
// one-pass versions must be those of the per-env ones they replace.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFilesAtomic } from "../../src/core/fs/atomic-write.ts";
import { dependantsIndex, dependantsOf } from "../../src/core/shared/dependants.ts";
import { emptyState, envKey, type EnvRecord } from "../../src/core/state/schema.ts";
import { homePartOfText } from "../../src/core/known-state-text.ts";
import { isHostLabel } from "../../src/core/dns-names.ts";
import { indexProblems } from "../../src/core/state/index-entry.ts";
import { renderIndexText, spliceIndexText } from "../../src/core/state/layout.ts";
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

test("state is written one index entry a line; a compact or indented file of an earlier version reads and changes the same", async () => {
  const home = tempDir();
  try {
    await initState(at(home), {});
    const file = join(home, "state.json");
    const empty = readFileSync(file, "utf8");
    assert.is(empty.split("\n").length, 3, "the home line, the closing line and the final newline");
    assert.ok(empty.split("\n")[0]!.endsWith('"index":{'));
    const { index: _index, index_sha1: _seal, ...home0 } = JSON.parse(empty);
    for (const older of [`${JSON.stringify(JSON.parse(empty), null, 2)}\n`, `${JSON.stringify(JSON.parse(empty))}\n`]) {
      writeFileSync(file, older);
      assert.equal(JSON.parse(JSON.stringify(readState(at(home)))), { ...home0, envs: {} });
      assert.is(homePartOfText(older), undefined, "an older form is parsed whole");
    }
    await withState(at(home), (s) => {
      s.envs["p/a"] = envRec("p", "a", 1);
      s.envs["p/b"] = envRec("p", "b", 2);
    });
    const text = readFileSync(file, "utf8");
    assert.equal(Object.keys(JSON.parse(text).index), ["p/a", "p/b"]);
    assert.is(text.split("\n").length, 5, "home, two entries, closing line, final newline");
    assert.equal(homePartOfText(text), home0, "the home part from the first line alone");
  } finally {
    removeDir(home);
  }
});

test("a write rewrites only the changed lines, and gives byte for byte what encoding every entry gives", async () => {
  const home = tempDir();
  try {
    await initState(at(home), {});
    const file = join(home, "state.json");
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    // What the index must hold, in order: an env that was there keeps its place, new ones go last.
    let expected = new Map<string, string>();
    for (let step = 0; step < 60; step++) {
      const now = new Map(expected);
      await withState(at(home), (s) => {
        for (let k = 0; k < 1 + rnd(3); k++) {
          const i = rnd(40);
          const key = `p${i % 3}/e${i}`;
          if (now.has(key) && rnd(2) === 0) {
            delete s.envs[key];
            now.delete(key);
          } else if (now.has(key)) {
            const status = rnd(2) === 0 ? "running" : "stopped";
            s.envs[key]!.status = status;
            now.set(key, status);
          } else {
            s.envs[key] = envRec(`p${i % 3}`, `e${i}`, i);
            now.set(key, "created");
          }
        }
      });
      const order = [...[...expected.keys()].filter((k) => now.has(k)), ...[...now.keys()].filter((k) => !expected.has(k))];
      expected = new Map(order.map((k) => [k, now.get(k)!]));
      const text = readFileSync(file, "utf8");
      const doc = JSON.parse(text);
      assert.is(text, renderIndexText(doc), `step ${step}: the spliced text is the canonical one`);
      assert.equal(
        Object.entries(doc.index).map(([k, e]: [string, any]) => `${k} ${e.status}`),
        [...expected].map(([k, st]) => `${k} ${st}`),
        `step ${step}`,
      );
    }
  } finally {
    removeDir(home);
  }
});

test("a valid file whose lines do not hold one entry each (edited by hand) is written whole, losing no entry", async () => {
  const home = tempDir();
  try {
    await initState(at(home), {});
    await withState(at(home), (s) => {
      for (let i = 1; i <= 3; i++) s.envs[`p/e${i}`] = envRec("p", `e${i}`, i);
    });
    const file = join(home, "state.json");
    const text = readFileSync(file, "utf8");
    const doc = JSON.parse(text);
    // Two entries on one line: still the same JSON, so readers take it, but not the line form.
    const joined = text.replace(',\n"p/e2"', ',"p/e2"');
    assert.equal(JSON.parse(joined), doc);
    assert.is(spliceIndexText(joined, doc, new Map([["p/e1", undefined]])), undefined, "the form is checked, not assumed");
    writeFileSync(file, joined);
    await withState(at(home), (s) => {
      s.envs["p/e1"]!.status = "running";
    });
    const after = JSON.parse(readFileSync(file, "utf8"));
    assert.equal(Object.keys(after.index), ["p/e1", "p/e2", "p/e3"]);
    assert.is(after.index["p/e1"].status, "running");
    assert.is(readFileSync(file, "utf8"), renderIndexText(after), "written whole in the line form again");
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

test("an index key is accepted exactly when it is two DNS labels around one slash (20,000 random keys)", () => {
  let seed = 3;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor(seed / 65536) % n;
  };
  const { envs: _envs, ...home } = emptyState("testhome");
  const entry = { status: "created", subnet: "10.1.2.0/24", services: 0, created_at: "2026-01-01T00:00:00.000Z" };
  const alphabet = "ab09-/_A.";
  const twoLabels = (k: string) => {
    const slash = k.indexOf("/");
    return slash >= 0 && isHostLabel(k.slice(0, slash)) && isHostLabel(k.slice(slash + 1));
  };
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const key =
      i % 10 === 0
        ? `${"a".repeat(60 + rnd(6))}/${"b".repeat(60 + rnd(6))}`
        : Array.from({ length: 1 + rnd(9) }, () => alphabet[rnd(alphabet.length)]).join("");
    const flagged = indexProblems({ ...home, index: { [key]: entry } } as never).some((p) => p.includes("env key"));
    assert.is(flagged, !twoLabels(key), JSON.stringify(key));
    if (!flagged) accepted++;
  }
  assert.ok(accepted > 500, `accepted keys among them (${accepted})`);
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
