// Which envs gc picks (issue 6), and how --older-than is read.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseAge } from "../../src/cli/commands/gc.ts";
import { idleEnvs } from "../../src/core/env/gc-envs.ts";
import { emptyState, type EnvRecord } from "../../src/core/state/schema.ts";

const NOW = Date.parse("2030-06-30T00:00:00Z");
const DAY = 86_400_000;
const at = (daysBefore: number) => new Date(NOW - daysBefore * DAY).toISOString();

function rec(name: string, created: number, lastUsed?: number): EnvRecord {
  return {
    project: "p",
    name,
    docker_name: `cilo_p_${name}`,
    status: "stopped",
    subnet: `10.224.${name.length}.0/24`,
    workspace: `/w/${name}`,
    created_at: at(created),
    updated_at: at(0),
    ...(lastUsed !== undefined ? { last_used_at: at(lastUsed) } : {}),
    services: [],
  };
}

test("idle time is from last_used_at, else created_at; longest idle first; the limit is exclusive", () => {
  const s = emptyState("testhome");
  for (const r of [rec("a", 30, 1), rec("bb", 10), rec("ccc", 40, 8), rec("dddd", 7)]) s.envs[`p/${r.name}`] = r;
  const idle = idleEnvs(s, 7 * DAY, NOW);
  assert.equal(
    idle.map((e) => e.env.name),
    ["bb", "ccc"],
  );
  assert.is(idle[0]!.lastUsed, at(10));
  assert.is(idle[1]!.idleMs, 8 * DAY);
  assert.equal(
    idleEnvs(s, 0, NOW).map((e) => e.env.name),
    ["bb", "ccc", "dddd", "a"],
  );
});

test("--older-than takes days and weeks besides s, m, h", () => {
  assert.is(parseAge("7d"), 7 * DAY);
  assert.is(parseAge("2w"), 14 * DAY);
  assert.is(parseAge("1d12h"), 1.5 * DAY);
  assert.is(parseAge("90m"), 90 * 60_000);
  assert.is(parseAge("0.5d"), DAY / 2);
  for (const bad of ["", "7", "soon", "7 days", "d"]) assert.throws(() => parseAge(bad), /is not a duration/);
});

test.run();
