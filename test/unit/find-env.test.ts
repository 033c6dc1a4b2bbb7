import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { currentProjectFor } from "../../src/core/config/current-project.ts";
import type { CiloError } from "../../src/core/errors.ts";
import { findEnv, findOrNameEnv, lookupEnv } from "../../src/core/state/find-env.ts";
import { emptyState, envKey, type EnvRecord, type State } from "../../src/core/state/schema.ts";

function stateWith(...keys: string[]): State {
  const state = emptyState("h1");
  for (const key of keys) {
    const [project, name] = key.split("/") as [string, string];
    state.envs[key] = {
      project,
      name,
      docker_name: `cilo_h1_${project}_${name}`,
      status: "running",
      subnet: "10.224.0.0/24",
      workspace: `/home/envs/${project}/${name}`,
      created_at: "2026-01-01T00:00:00Z",
      updated_at: "2026-01-01T00:00:00Z",
      services: [],
    } as EnvRecord;
  }
  return state;
}

const keyOf = (rec: EnvRecord | undefined) => (rec ? envKey(rec.project, rec.name) : undefined);

function usage(fn: () => unknown): CiloError {
  try {
    fn();
  } catch (e) {
    assert.is((e as CiloError).exitCode, 2);
    assert.not.match((e as Error).message, /\n/);
    return e as CiloError;
  }
  throw new Error("no error");
}

test("a branch name finds the env of the current project by its normalised name", () => {
  const state = stateWith("shop/feat-login");
  assert.is(keyOf(findEnv(state, "feat/login", "shop")), "shop/feat-login");
  assert.is(keyOf(findEnv(state, "Feat/Login", "shop")), "shop/feat-login");
  assert.is(keyOf(findEnv(state, "feat-login", "shop")), "shop/feat-login");
  // outside a project folder: the one project that has it
  assert.is(keyOf(findEnv(state, "feat/login")), "shop/feat-login");
});

test("<project>:<env> is explicit, whatever the current project", () => {
  const state = stateWith("shop/feat-login", "blog/feat-login");
  assert.is(keyOf(findEnv(state, "shop:feat/login", "blog")), "shop/feat-login");
  assert.is(keyOf(findEnv(state, "blog:feat-login")), "blog/feat-login");
  assert.is(lookupEnv(state, "nope:feat-login"), undefined);
});

test("the old <project>/<env> still finds an env when the whole name finds none", () => {
  const state = stateWith("shop/login", "blog/x");
  assert.is(keyOf(findEnv(state, "shop/login", "blog")), "shop/login");
  assert.is(keyOf(findEnv(state, "shop/login")), "shop/login");
});

test("a string that names two envs (whole and old form) is refused, saying how to write each", () => {
  const state = stateWith("feat/login", "shop/feat-login");
  const e = usage(() => findEnv(state, "feat/login", "shop"));
  assert.match(e.message, /"feat\/login" names two envs: "feat-login" of project "shop" \(the whole name\) and "login" of project "feat"/);
  assert.is(e.hint, "Write shop:feat/login for the first or feat:login for the second");
  assert.is(keyOf(findEnv(state, "shop:feat/login", "shop")), "shop/feat-login");
  assert.is(keyOf(findEnv(state, "feat:login", "shop")), "feat/login");
});

test("a name several projects have is refused outside a project, listing <project>:<env>", () => {
  const state = stateWith("shop/feat-login", "blog/feat-login");
  const e = usage(() => findEnv(state, "feat/login"));
  assert.match(e.message, /exists in several projects: blog:feat-login, shop:feat-login/);
});

test("an unknown env is refused with the create command for the same string", () => {
  const state = stateWith("shop/main");
  const e = usage(() => findEnv(state, "feat/login", "shop"));
  assert.match(e.message, /No env "feat\/login" exists in project "shop"/);
  assert.is(e.hint, "Create it with: cilo create feat/login; cilo list shows the envs");
  assert.is(usage(() => findEnv(state, "blog:feat/login", "shop")).hint, "Create it with: cilo create blog:feat/login; cilo list shows the envs");
});

test("findOrNameEnv (cilo run): a missing branch env is named in the current project", () => {
  const state = stateWith("shop/main");
  assert.equal(findOrNameEnv(state, "feat/login", "shop"), { project: "shop", env: "feat-login" });
  assert.equal(findOrNameEnv(state, "feat/login"), { env: "feat-login" });
  assert.equal(findOrNameEnv(state, "blog:feat/login", "shop"), { project: "blog", env: "feat-login" });
  assert.is(keyOf((findOrNameEnv(state, "main", "shop") as { rec: EnvRecord }).rec), "shop/main");
});

test("findOrNameEnv refuses a new <known project>/<env>: it could be either", () => {
  const state = stateWith("feat/main");
  const e = usage(() => findOrNameEnv(state, "feat/login", "shop"));
  assert.match(e.message, /could be a new env "feat-login" of project "shop" \(the whole name\) or a new env "login" of the existing project "feat"/);
  assert.is(e.hint, "Write shop:feat/login for the first or feat:login for the second");
});

test("currentProjectFor: a ref naming its project (shop:feat) reads no project files; a bare name reads them", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cilo-unit-cp-"));
  try {
    writeFileSync(join(dir, "compose.yml"), "services: {}\n");
    writeFileSync(join(dir, "cilo.jsonc"), "{ this is not json");
    assert.is(await currentProjectFor("shop:feat", undefined, dir), undefined);
    assert.is(await currentProjectFor("shop:feat", "Other", dir), "other", "--project still counts");
    let thrown: unknown;
    try {
      await currentProjectFor("feat", undefined, dir);
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown, "a bare name reads the project's config (here broken)");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
