// The state layout of schema 3 (issue 16, docs/state.md "Layout"): state.json holds the home and a
// small index, each env its own record file. A single-env change reads and writes only that env's
// record and the index; an old single-file home is migrated on its first write; a crash between a
// record and the index, a missing, stale, orphaned or planted bad record are reported and repaired.
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkDnsNames } from "../../src/core/dns/dns.ts";
import { envKeys, recordPath } from "../../src/core/state/layout.ts";
import { STATE_VERSION, type EnvRecord } from "../../src/core/state/schema.ts";
import { initState, inspectLayout, readState, reconcileIndex, repairRecord, withState } from "../../src/core/state/store.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";

const at = (home: string) => ({ home, env: {} });

function envRec(project: string, name: string, i: number): EnvRecord {
  return {
    project,
    name,
    docker_name: `cilo_${project}_${name}`,
    status: "created",
    subnet: `10.${100 + (i >> 8)}.${i & 255}.0/24`,
    workspace: `/w/${project}/${name}`,
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z",
    services: [{ name: "web", ip: `10.${100 + (i >> 8)}.${i & 255}.2` }],
  };
}

async function homeWith(n: number): Promise<string> {
  const home = tempDir();
  await initState(at(home), {});
  await withState(at(home), (s) => {
    for (let i = 0; i < n; i++) s.envs[`p/e${i}`] = envRec("p", `e${i}`, i);
  });
  return home;
}

const stateDoc = (home: string) => JSON.parse(readFileSync(join(home, "state.json"), "utf8"));

test("state.json holds the home and an index; each env is its own record file", async () => {
  const home = await homeWith(3);
  try {
    const doc = stateDoc(home);
    assert.is(doc.version, STATE_VERSION);
    assert.not.ok("envs" in doc);
    assert.equal(Object.keys(doc.index), ["p/e0", "p/e1", "p/e2"]);
    assert.equal(doc.index["p/e1"], { status: "created", subnet: "10.100.1.0/24", services: 1, created_at: "2026-01-01T00:00:00.000Z" });
    assert.equal(readdirSync(join(home, "records", "p")).sort(), ["e0.json", "e1.json", "e2.json"]);
    assert.equal(JSON.parse(readFileSync(recordPath(home, "p/e1"), "utf8")), envRec("p", "e1", 1));
    const s = readState(at(home));
    assert.equal(envKeys(s), ["p/e0", "p/e1", "p/e2"]);
    assert.equal(s.envs["p/e2"], envRec("p", "e2", 2));
    assert.equal(Object.values(s.envs).length, 3);
    assert.ok("p/e0" in s.envs);
    assert.not.ok("p/nope" in s.envs);
  } finally {
    removeDir(home);
  }
});

test("a change to one env reads and writes only that env's record and the index", async () => {
  const home = await homeWith(3);
  try {
    // e0's record is unreadable garbage: an operation on e1 never reads it.
    writeFileSync(recordPath(home, "p/e0"), "not json");
    const e2Before = readFileSync(recordPath(home, "p/e2"), "utf8");
    await withState(at(home), (s) => {
      s.envs["p/e1"]!.status = "running";
    });
    assert.is(readState(at(home)).envs["p/e1"]!.status, "running");
    assert.is(stateDoc(home).index["p/e1"].status, "running");
    assert.is(readFileSync(recordPath(home, "p/e2"), "utf8"), e2Before);
    // A new env (its subnet chosen from the index) and a removed one: no other record read either.
    await withState(at(home), (s) => {
      s.envs["p/new"] = envRec("p", "new", 9);
      delete s.envs["p/e2"];
    });
    assert.not.ok(existsSync(recordPath(home, "p/e2")));
    assert.equal(Object.keys(stateDoc(home).index), ["p/e0", "p/e1", "p/new"]);
    // The planted bad record: one line naming the file, when that env is read.
    assert.throws(
      () => readState(at(home)).envs["p/e0"],
      (e: any) => e.code === "E_STATE_CORRUPT" && e.message.includes(recordPath(home, "p/e0")) && !e.message.includes("\n"),
    );
  } finally {
    removeDir(home);
  }
});

test("subnets stay unique across envs through the index; a key that is not two DNS labels is refused", async () => {
  const home = await homeWith(2);
  try {
    await withState(at(home), (s) => {
      s.envs["p/dup"] = { ...envRec("p", "dup", 0) }; // e0's subnet
    }).then(
      () => assert.unreachable(),
      (e) => assert.match(e.message, /share subnet 10\.100\.0\.0\/24/),
    );
    for (const key of ["../x", "p/../../etc", "p/a.b"]) {
      await withState(at(home), (s) => {
        s.envs[key] = envRec("p", "z", 7);
      }).then(
        () => assert.unreachable(key),
        (e) => assert.is(e.code, "E_STATE_INVALID", key),
      );
    }
    assert.equal(readdirSync(join(home, "records")), ["p"]);
    assert.equal(readdirSync(join(home, "records", "p")).sort(), ["e0.json", "e1.json"]);
  } finally {
    removeDir(home);
  }
});

test("a hand-edited index entry that list would print from is refused as corrupt, naming the field", async () => {
  const home = await homeWith(1);
  try {
    const good = readFileSync(join(home, "state.json"), "utf8");
    for (const [field, value, why] of [
      ["created_at", undefined, /no created_at time/],
      ["services", "3", /no service count/],
      ["owner_pid", -1, /invalid owner_pid/],
      ["lease", "ssh", /unknown lease/],
      ["expires_at", "soon", /invalid expires_at/],
    ] as const) {
      const doc = JSON.parse(good);
      if (value === undefined) delete doc.index["p/e0"][field];
      else doc.index["p/e0"][field] = value;
      writeFileSync(join(home, "state.json"), JSON.stringify(doc));
      try {
        readState(at(home));
        assert.unreachable(field);
      } catch (e) {
        assert.is((e as { code?: string }).code, "E_STATE_CORRUPT", field);
        assert.match((e as Error).message, why);
      }
    }
  } finally {
    removeDir(home);
  }
});

test("a write checks the entries that changed; a change to the home part (hosts) checks every entry again", async () => {
  const home = await homeWith(2);
  try {
    await withState(at(home), (s) => {
      s.hosts = { r1: { address: "ssh://u@r1.example", added_at: "2026-01-01T00:00:00.000Z" } };
    });
    await withState(at(home), (s) => {
      s.envs["p/far"] = { ...envRec("p", "far", 9), host: "r1" };
    });
    // Only p/e0 changes, but the host p/far names goes: every entry is checked, and this one refused.
    await withState(at(home), (s) => {
      s.envs["p/e0"]!.status = "stopped";
      delete s.hosts;
    }).then(
      () => assert.unreachable(),
      (e) => assert.match(e.message, /r1/),
    );
    // A changed entry whose subnet an unchanged one holds is refused (the unchanged take part as they are).
    await withState(at(home), (s) => {
      s.envs["p/e1"]!.extra_subnets = { fixed: "10.100.0.0/24" }; // p/e0's
    }).then(
      () => assert.unreachable(),
      (e) => assert.match(e.message, /share subnet 10\.100\.0\.0\/24/),
    );
    assert.equal(stateDoc(home).index["p/e0"].status, "created");
  } finally {
    removeDir(home);
  }
});

test("an old single-file home (schema 2) is read as it is, then migrated on its first write, its file kept as the backup", async () => {
  const home = tempDir();
  try {
    mkdirSync(home, { recursive: true });
    const old = {
      version: 2,
      home_id: "abcdef12",
      config: { subnet_pool: "10.224.0.0/12", subnet_size: 24, dns_port: 5354, dns_suffix: "test" },
      envs: { "p/a": envRec("p", "a", 1), "q/b": envRec("q", "b", 2) },
    };
    const oldText = `${JSON.stringify(old, null, 2)}\n`;
    writeFileSync(join(home, "state.json"), oldText);
    // A migration cut short: some records written, the old file still in place. It is simply redone.
    mkdirSync(join(home, "records", "p"), { recursive: true });
    writeFileSync(join(home, "records", "p", "a.json"), "{half");
    const before = readState(at(home));
    assert.equal(before.envs["q/b"], envRec("q", "b", 2));
    assert.is(readFileSync(join(home, "state.json"), "utf8"), oldText, "reading writes nothing");
    await withState(at(home), () => {});
    const doc = stateDoc(home);
    assert.is(doc.version, STATE_VERSION);
    assert.is(doc.home_id, "abcdef12");
    assert.equal(Object.keys(doc.index).sort(), ["p/a", "q/b"]);
    assert.equal(JSON.parse(readFileSync(recordPath(home, "p/a"), "utf8")), envRec("p", "a", 1));
    assert.equal(JSON.parse(readFileSync(recordPath(home, "q/b"), "utf8")), envRec("q", "b", 2));
    assert.is(readFileSync(join(home, "state.json.bak"), "utf8"), oldText);
    assert.equal(JSON.parse(JSON.stringify(readState(at(home)).envs)), old.envs);
    assert.equal(inspectLayout(home, readFileSync(join(home, "state.json"), "utf8")).orphans, []);
  } finally {
    removeDir(home);
  }
});

test("a crash between a record and the index: an orphan record is ignored, a stale entry is read from the record; both are reported and repaired", async () => {
  const home = await homeWith(2);
  try {
    const text = () => readFileSync(join(home, "state.json"), "utf8");
    // A create killed after its record, before the index: the env does not exist.
    mkdirSync(join(home, "records", "q"), { recursive: true });
    writeFileSync(recordPath(home, "q/half"), JSON.stringify(envRec("q", "half", 5)));
    assert.not.ok(readState(at(home)).envs["q/half"]);
    // An up killed after its record, before the index: the record is what the env is.
    const rec = { ...envRec("p", "e1", 1), status: "running" as const };
    writeFileSync(recordPath(home, "p/e1"), JSON.stringify(rec));
    assert.is(readState(at(home)).envs["p/e1"]!.status, "running");
    const found = inspectLayout(home, text());
    assert.equal(found.orphans, [{ key: "q/half", file: recordPath(home, "q/half") }]);
    assert.equal(found.stale, ["p/e1"]);
    assert.equal(found.missing, []);
    await reconcileIndex(at(home), { refresh: ["p/e1"], orphans: ["q/half"] });
    assert.is(stateDoc(home).index["p/e1"].status, "running");
    assert.not.ok(existsSync(recordPath(home, "q/half")));
    const after = inspectLayout(home, text());
    assert.equal([after.orphans, after.stale, after.missing, after.badRecords], [[], [], [], []]);
  } finally {
    removeDir(home);
  }
});

test("a missing record: readers skip the env, a change that reads it stops with one line, doctor's repair drops the entry", async () => {
  const home = await homeWith(2);
  try {
    unlinkSync(recordPath(home, "p/e0"));
    assert.equal(Object.keys(readState(at(home)).envs), ["p/e1"]);
    await withState(at(home), (s) => Object.values(s.envs)).then(
      () => assert.unreachable(),
      (e) => assert.ok(e.code === "E_STATE_CORRUPT" && e.message.includes(recordPath(home, "p/e0")), e.message),
    );
    assert.equal(inspectLayout(home, readFileSync(join(home, "state.json"), "utf8")).missing, ["p/e0"]);
    await reconcileIndex(at(home), { drop: ["p/e0"] });
    assert.equal(Object.keys(stateDoc(home).index), ["p/e1"]);
  } finally {
    removeDir(home);
  }
});

test("a corrupt record is restored from its backup; without one it is moved aside and the env forgotten", async () => {
  const home = await homeWith(2);
  try {
    await withState(at(home), (s) => {
      s.envs["p/e0"]!.status = "stopped"; // the record's previous text becomes its .bak
    });
    assert.ok(existsSync(`${recordPath(home, "p/e0")}.bak`));
    writeFileSync(recordPath(home, "p/e0"), '{"project":"p","name":"e0","status":"flying"}');
    const bad = inspectLayout(home, readFileSync(join(home, "state.json"), "utf8")).badRecords;
    assert.is(bad.length, 1);
    assert.match(bad[0]!.message, /records\/p\/e0\.json is corrupt/);
    assert.match(await repairRecord(at(home), "p/e0"), /restored/);
    assert.is(readState(at(home)).envs["p/e0"]!.status, "created", "the last good record (before the last write)");
    assert.is(stateDoc(home).index["p/e0"].status, "created");
    writeFileSync(recordPath(home, "p/e1"), "garbage");
    assert.match(await repairRecord(at(home), "p/e1"), /moved .* aside/);
    assert.equal(Object.keys(stateDoc(home).index), ["p/e0"]);
    assert.ok(readdirSync(join(home, "records", "p")).some((f) => f.startsWith("e1.json.corrupt-")));
  } finally {
    removeDir(home);
  }
});

test("the DNS collision check reads only the envs whose names could collide, and still finds every collision", async () => {
  const home = tempDir();
  try {
    await initState(at(home), {});
    const running = (project: string, name: string, i: number, extra: Partial<EnvRecord> = {}): EnvRecord => ({
      ...envRec(project, name, i),
      status: "running",
      ...extra,
    });
    await withState(at(home), (s) => {
      s.envs["shop/feat"] = running("shop", "feat", 1);
      s.envs["blog/main"] = running("blog", "main", 2);
      // Its names end in .x.feat.test: they can meet a candidate's in .feat.test.
      s.envs["docs/x"] = running("docs", "x", 3, { dns_suffix: "feat.test", services: [{ name: "web", ip: "10.100.3.2" }] });
      s.envs["blog/idle"] = { ...envRec("blog", "idle", 4) }; // not running: serves no names
    });
    // blog/main's record is garbage: a check for an env named feat never reads it.
    writeFileSync(recordPath(home, "blog/main"), "not json");
    const candidate = (name: string, services: string[], hostnames?: Record<string, string[]>): EnvRecord => ({
      ...envRec("blog", name, 9),
      services: services.map((n) => ({ name: n })),
      ...(hostnames ? { hostnames } : {}),
    });
    // Same env name in another project: web.feat.test is shop/feat's.
    await checkDnsNames(candidate("feat", ["web"]), readState(at(home))).then(
      () => assert.unreachable(),
      (e) => assert.ok(e.code === "E_DNS_COLLISION" && e.message.includes("web.feat.test"), e.message),
    );
    // A dotted custom hostname meeting docs/x's names under its own suffix: web.x.feat.test.
    await checkDnsNames(candidate("feat", ["api"], { api: ["web.x"] }), readState(at(home))).then(
      () => assert.unreachable(),
      (e) => assert.ok(e.code === "E_DNS_COLLISION" && e.message.includes("web.x.feat.test"), e.message),
    );
    await checkDnsNames(candidate("feat", ["api"]), readState(at(home))); // no shared name
    await checkDnsNames(candidate("idle", ["web"]), readState(at(home))); // itself, and a stopped env, are not others
  } finally {
    removeDir(home);
  }
});

test.run();
