import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { migrate } from "../../src/core/state/migrations.ts";
import { emptyState, STATE_VERSION } from "../../src/core/state/schema.ts";
import { initState, readState, withState } from "../../src/core/state/store.ts";
import { validateState } from "../../src/core/state/validate.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";

/** The state functions get a context; these tests need only its home and an empty environment. */
const at = (home: string) => ({ home, env: {} });

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
  const s = emptyState("testhome");
  const rec = {
    project: "p",
    name: "a",
    docker_name: "cilo_p_a",
    status: "created" as const,
    subnet: "10.224.0.0/24",
    workspace: "/w",
    created_at: "",
    updated_at: "",
    services: [],
  };
  s.envs["p/a"] = rec;
  s.envs["p/b"] = { ...rec, name: "b", docker_name: "cilo_p_b" };
  assert.match(validateState(s).join("\n"), /share subnet/);
  s.envs["p/b"] = { ...rec, name: "c", docker_name: "cilo_p_c", subnet: "10.224.1.0/24" };
  assert.match(validateState(s).join("\n"), /has project\/name/);
});

test("schema 1 → 2: the home gets an id derived from its folder (stable until written), envs keep their Docker names", async () => {
  const home = tempDir();
  try {
    const v1 = {
      version: 1,
      config: { subnet_pool: "10.224.0.0/12", subnet_size: 24, dns_port: 5354, dns_suffix: "test" },
      envs: {
        "shop/a": {
          project: "shop",
          name: "a",
          status: "running",
          subnet: "10.224.0.0/24",
          workspace: join(home, "envs/shop/a"),
          created_at: "",
          updated_at: "",
          services: [],
        },
      },
      shared: { shop: { project: "shop", network: "cilo_shop__shared", subnet: "10.224.1.0/24", services: {} } },
    };
    writeFileSync(join(home, "state.json"), JSON.stringify(v1));
    const first = readState(at(home));
    assert.is(first.version, STATE_VERSION);
    assert.match(first.home_id, /^[0-9a-f]{8}$/);
    assert.is(readState(at(home)).home_id, first.home_id, "every reader derives the same id");
    assert.is(first.envs["shop/a"]!.docker_name, "cilo_shop_a");
    assert.is(first.shared!["shop"]!.network, "cilo_shop__shared");
    await withState(at(home), () => {});
    assert.is(JSON.parse(readFileSync(join(home, "state.json"), "utf8")).home_id, first.home_id, "the first write keeps it");
  } finally {
    removeDir(home);
  }
});

test("a new home gets a random id; docker names other than this home's own are refused on read", async () => {
  const a = tempDir();
  const b = tempDir();
  try {
    const sa = (await initState(at(a), {})).state;
    const sb = (await initState(at(b), {})).state;
    assert.match(sa.home_id, /^[0-9a-f]{8}$/);
    assert.is.not(sa.home_id, sb.home_id);
    const rec = {
      project: "p",
      name: "e",
      docker_name: `cilo_${sa.home_id}_p_e`,
      status: "created" as const,
      subnet: "10.224.0.0/24",
      workspace: "/w",
      created_at: "",
      updated_at: "",
      services: [],
    };
    sa.envs["p/e"] = rec;
    assert.equal(validateState(sa), []);
    sa.envs["p/e"] = { ...rec, docker_name: "cilo_p_e" };
    assert.equal(validateState(sa), [], "the name of an env made before home ids");
    // A tampered record naming another home's compose project would let destroy act on it.
    sa.envs["p/e"] = { ...rec, docker_name: `cilo_${sb.home_id}_p_e` };
    assert.match(validateState(sa).join("\n"), /docker_name that is not this home's/);
    sa.envs["p/e"] = { ...rec, docker_name: "cilo_other_x" };
    assert.match(validateState(sa).join("\n"), /docker_name/);
    sa.envs["p/e"] = rec;
    sa.home_id = "../x\n";
    assert.match(validateState(sa).join("\n"), /home_id/);
  } finally {
    removeDir(a);
    removeDir(b);
  }
});

test("withState writes atomically, keeps a backup, and a migrated v0 file is rewritten as current", async () => {
  const home = tempDir();
  try {
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, "state.json"), JSON.stringify(fixture("v0.json")));
    const before = readState(at(home));
    assert.is(before.version, STATE_VERSION);
    await withState(at(home), (s) => {
      delete s.envs["shop/main"];
    });
    const after = JSON.parse(readFileSync(join(home, "state.json"), "utf8"));
    assert.is(after.version, STATE_VERSION);
    assert.equal(Object.keys(after.index), ["shop/feat-x"]);
    assert.is(JSON.parse(readFileSync(join(home, "records/shop/feat-x.json"), "utf8")).subnet, "10.224.1.0/24");
    // The backup is the last good file before the write: the v0 original.
    const bak = JSON.parse(readFileSync(join(home, "state.json.bak"), "utf8"));
    assert.ok(bak.environments);
    assert.equal(
      readdirSync(home).filter((f) => f.endsWith(".tmp") || f.endsWith(".lock")),
      [],
    );
  } finally {
    removeDir(home);
  }
});

test("a throwing fn writes nothing", async () => {
  const home = tempDir();
  try {
    await initState(at(home), {});
    const before = readFileSync(join(home, "state.json"), "utf8");
    await withState(at(home), () => {
      throw new Error("boom");
    }).then(
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
    await initState(at(home), {});
    await withState(at(home), (s) => {
      s.config.dns_port = 5400;
    });
    writeFileSync(join(home, "state.json"), '{"version": 1, "envs": {');
    assert.throws(
      () => readState(at(home)),
      (e: any) => e.code === "E_STATE_CORRUPT" && e.message.includes(join(home, "state.json")) && e.hint.includes("state.json.bak"),
    );
    await withState(at(home), () => {}).then(
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
    assert.throws(
      () => readState(at(home)),
      (e: any) => e.code === "E_NOT_INITIALISED" && e.exitCode === 3,
    );
  } finally {
    removeDir(home);
  }
});

test.run();
