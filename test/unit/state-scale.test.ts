// Costs that must stay flat (or linear) in the number of envs (issue 16): the answers of the
// one-pass versions must be those of the per-env ones they replace.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { dependantsIndex, dependantsOf } from "../../src/core/shared/dependants.ts";
import { emptyState, envKey, type EnvRecord } from "../../src/core/state/schema.ts";

function envRec(project: string, name: string, i: number, shared_networks?: string[]): EnvRecord {
  return {
    project,
    name,
    docker_name: `cilo_testhome_${project}_${name}`,
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

test.run();
