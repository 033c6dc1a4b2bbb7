// The sealed index (state/index-view.ts): a command finds the entries it needs by their lines and
// reads the passes over every env (subnets, dependants, names, DNS suffixes) from the lines' text.
// Every answer must be the one a whole parse of the same text gives: the same state is read once
// sealed and once with its seal broken (which the store parses and checks whole), and compared,
// before and after changes made in the same state object.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkDnsNames } from "../../src/core/dns/dns.ts";
import { servedSuffixesFromIndex } from "../../src/core/dns/from-state.ts";
import { formatCidr } from "../../src/core/cidr.ts";
import { stateSubnets, stateSubnetsIn } from "../../src/core/network/used-subnets.ts";
import { dependantsOf } from "../../src/core/shared/dependants.ts";
import { lookupEnv } from "../../src/core/state/find-env.ts";
import { openSealed } from "../../src/core/state/index-view.ts";
import { envKeys } from "../../src/core/state/layout.ts";
import { ENV_STATUSES, type EnvRecord, type State } from "../../src/core/state/schema.ts";
import { initState, readState, withState } from "../../src/core/state/store.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";

const at = (home: string) => ({ home, env: {} });

/** A small deterministic random source, so a failure names its seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function randomEnv(r: () => number, i: number, keys: string[]): EnvRecord {
  const project = `p${Math.floor(r() * 4)}`;
  const name = `e${Math.floor(r() * 40)}`; // names repeat across projects
  const status = ENV_STATUSES[Math.floor(r() * ENV_STATUSES.length)]!;
  const rec: EnvRecord = {
    project,
    name,
    docker_name: `cilo_${project}_${name}`,
    status,
    subnet: `10.${100 + (i >> 8)}.${i & 255}.0/24`,
    workspace: `/w/${project}/${name}`,
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z",
    services: [{ name: "web", ip: `10.${100 + (i >> 8)}.${i & 255}.2` }],
  };
  if (r() < 0.15) rec.host = "r1";
  if (r() < 0.1) rec.extra_subnets = { back: `10.${200 + (i >> 8)}.${i & 255}.0/24` };
  if (r() < 0.15 && keys.length > 0) rec.shared_networks = [keys[Math.floor(r() * keys.length)]!];
  if (r() < 0.1) rec.dns_suffix = r() < 0.5 ? "other.test" : "e1.test";
  return rec;
}

/**
 * What every pass answers of a state, each from a state object of its own (`fresh`) where it can:
 * a pass must be answered from the index, before any record is read (a record read in the same
 * object is taken from the record, not the index line).
 */
async function answers(fresh: () => State): Promise<unknown> {
  const keys = envKeys(fresh()).sort();
  const names = [...new Set(keys.map((k) => k.slice(k.indexOf("/") + 1)))].sort();
  const dependants: Record<string, string[]> = {};
  for (const k of keys) {
    const slash = k.indexOf("/");
    dependants[k] = dependantsOf(fresh(), { project: k.slice(0, slash), name: k.slice(slash + 1) } as EnvRecord);
  }
  const collisions: Record<string, string> = {};
  for (const n of names) {
    const candidate = { ...randomEnv(rng(9), 9, []), project: "q", name: n, docker_name: `cilo_q_${n}`, status: "created" as const };
    for (const suffix of [undefined, "other.test", "test", "e1.test"]) {
      try {
        await checkDnsNames(suffix === undefined ? candidate : { ...candidate, dns_suffix: suffix }, fresh());
        collisions[`${n} ${suffix}`] = "ok";
      } catch (e) {
        collisions[`${n} ${suffix}`] = (e as Error).message;
      }
    }
  }
  const byName: Record<string, unknown> = {};
  for (const n of names) {
    try {
      byName[n] = lookupEnv(fresh(), n)?.project ?? null;
    } catch (e) {
      byName[n] = (e as Error).message;
    }
  }
  return {
    keys,
    subnets: stateSubnets(fresh()).sort(),
    local: stateSubnets(fresh(), { host: null }).sort(),
    remote: stateSubnets(fresh(), { host: "r1", env: keys[3]! }).sort(),
    except: stateSubnets(fresh(), { env: keys[0]! }).sort(),
    // Subnet allocation's pass: the plain envs' subnets read as numbers, only those in the pool.
    inPool: stateSubnetsIn(fresh(), "10.0.0.0/8").map(formatCidr).sort(),
    inPoolLocal: stateSubnetsIn(fresh(), "10.100.0.0/16", { host: null }).map(formatCidr).sort(),
    inPoolRemote: stateSubnetsIn(fresh(), "10.0.0.0/8", { host: "r1", env: keys[3]! }).map(formatCidr).sort(),
    inPoolExcept: stateSubnetsIn(fresh(), "10.101.0.0/16", { env: keys[0]! }).map(formatCidr).sort(),
    outOfPool: stateSubnetsIn(fresh(), "192.168.0.0/16").length,
    suffixes: servedSuffixesFromIndex(fresh()).sort(),
    byName,
    dependants,
    collisions,
  };
}

/** The state file with its seal broken: the store parses and checks it whole. */
function unsealed(text: string): string {
  const nl = text.indexOf("\n");
  return `{${text.slice(text.indexOf('",', 0) + 2, nl)}\n${text.slice(nl + 1)}`;
}

for (const seed of [1, 7, 42]) {
  test(`sealed and whole reads give the same answers (seed ${seed}), before and after changes`, async () => {
    const home = tempDir();
    try {
      await initState(at(home), {});
      const r = rng(seed);
      await withState(at(home), (s) => {
        s.hosts = { r1: { address: "ssh://root@10.0.0.2", added_at: "2026-01-01T00:00:00Z" } };
        const keys: string[] = [];
        for (let i = 0; i < 300; i++) {
          const rec = randomEnv(r, i, keys);
          const key = `${rec.project}/${rec.name}`;
          if (s.envs[key]) continue;
          s.envs[key] = rec;
          keys.push(key);
        }
      });
      const file = join(home, "state.json");
      const sealed = readFileSync(file, "utf8");
      assert.ok(openSealed(sealed), "the store seals what it writes");
      const fast = await answers(() => readState(at(home)));
      writeFileSync(file, unsealed(sealed));
      assert.is(openSealed(readFileSync(file, "utf8")), undefined, "the broken seal does not hold");
      const whole = await answers(() => readState(at(home)));
      assert.equal(fast, whole);
      const f = fast as { subnets: string[]; keys: string[]; suffixes: string[]; inPool: string[]; inPoolLocal: string[]; local: string[]; outOfPool: number };
      assert.ok(f.keys.length > 100 && f.subnets.length > f.keys.length, "extra subnets are counted");
      assert.equal(f.inPool, f.subnets, "every subnet of the state is in 10.0.0.0/8");
      assert.equal(
        f.inPoolLocal,
        f.local.filter((s) => s.startsWith("10.100.")),
        "only the pool's subnets are given",
      );
      assert.is(f.outOfPool, 0);
      assert.ok(f.suffixes.length >= 2, "envs with their own suffix are served");

      // The same passes inside a change, with envs deleted, changed and added in the state object.
      const changed = async () =>
        withState(at(home), async (s) => {
          const keys = envKeys(s).sort();
          delete s.envs[keys[5]!];
          const a = s.envs[keys[6]!]!;
          a.status = "running";
          a.host = "r1";
          a.subnet = "10.250.0.0/24";
          const b = s.envs[keys[7]!]!;
          b.shared_networks = [keys[8]!];
          b.dns_suffix = "other.test";
          s.envs["p9/e1"] = { ...s.envs[keys[9]!]!, project: "p9", name: "e1", docker_name: "cilo_p9_e1", subnet: "10.251.0.0/24", status: "running" };
          return await answers(() => s); // one object: the changes above are in it
        });
      writeFileSync(file, sealed);
      const fastChanged = await changed();
      const afterFast = readFileSync(file, "utf8");
      writeFileSync(file, unsealed(sealed));
      const wholeChanged = await changed();
      assert.equal(fastChanged, wholeChanged);
      assert.equal(JSON.parse(afterFast), JSON.parse(readFileSync(file, "utf8")), "the same state written either way");
      assert.ok(openSealed(readFileSync(file, "utf8")), "a write seals the text again");
    } finally {
      removeDir(home);
    }
  });
}

test("a sealed text edited by hand is read whole: its seal no longer holds, and a bad entry is named", async () => {
  const home = tempDir();
  try {
    await initState(at(home), {});
    await withState(at(home), (s) => {
      s.envs["p/a"] = { ...randomEnv(rng(3), 1, []), project: "p", name: "a", docker_name: "cilo_p_a" };
    });
    const file = join(home, "state.json");
    const text = readFileSync(file, "utf8");
    const edited = text.replace('"status":"', '"status":"x');
    writeFileSync(file, edited);
    assert.is(openSealed(edited), undefined);
    assert.throws(() => readState(at(home)), /unknown status/);
  } finally {
    removeDir(home);
  }
});

test("a seal hashed on from the marks of the text it was spliced from is the seal of the whole text", async () => {
  // Big enough for many marks (one about every 64 KiB): each write below changes the first, a
  // middle or the last line, removes one or adds one, in the same process that read the text.
  const home = tempDir();
  try {
    await initState(at(home), {});
    const r = rng(5);
    await withState(at(home), (s) => {
      for (let i = 0; i < 2500; i++) {
        const rec = { ...randomEnv(r, i, []), project: `p${i % 7}`, name: `e${i}`, docker_name: `cilo_p${i % 7}_e${i}` };
        delete rec.host;
        s.envs[`${rec.project}/${rec.name}`] = rec;
      }
    });
    const file = join(home, "state.json");
    assert.ok(readFileSync(file, "utf8").length > 4 * 65536);
    readState(at(home)); // read and hashed here: its marks are kept
    const keys = envKeys(readState(at(home)));
    const steps: [string, (s: State) => void][] = [
      [
        "the first line changed",
        (s) => {
          s.envs[keys[0]!]!.status = "stopped";
        },
      ],
      [
        "a middle line changed",
        (s) => {
          s.envs[keys[1234]!]!.status = "stopped";
        },
      ],
      [
        "the last line changed",
        (s) => {
          s.envs[keys[keys.length - 1]!]!.status = "stopped";
        },
      ],
      ["a line removed", (s) => void delete s.envs[keys[2000]!]],
      ["the last line removed", (s) => void delete s.envs[keys[keys.length - 1]!]],
      [
        "a line added",
        (s) => {
          s.envs["q/new"] = { ...s.envs[keys[5]!]!, project: "q", name: "new", docker_name: "cilo_q_new", subnet: "10.250.0.0/24" };
        },
      ],
      [
        "two lines changed",
        (s) => {
          s.envs[keys[100]!]!.status = "running";
          s.envs[keys[2400]!]!.status = "running";
        },
      ],
    ];
    for (const [what, change] of steps) {
      await withState(at(home), change);
      assert.ok(openSealed(readFileSync(file, "utf8")), `${what}: the seal holds when hashed whole`);
    }
    // The lines a write changed are found where it put them (or not at all) in the text it wrote.
    const s = readState(at(home));
    assert.equal(
      [keys[0]!, keys[1234]!, keys[2000]!, keys[keys.length - 1]!, "q/new", keys[100]!].map((k) => s.envs[k]?.status ?? null),
      ["stopped", "stopped", null, null, s.envs[keys[5]!]!.status, "running"],
    );
  } finally {
    removeDir(home);
  }
});

test.run();
