import { test } from "uvu";
import * as assert from "uvu/assert";
import { CiloError } from "../../src/core/errors.ts";
import { normaliseName, parseEnvRef, qualifiedEnv } from "../../src/core/names.ts";

test("normalises case, slashes, underscores and spaces", () => {
  assert.is(normaliseName("feat/login"), "feat-login");
  assert.is(normaliseName("Feat_Login"), "feat-login");
  assert.is(normaliseName("my env"), "my-env");
  assert.is(normaliseName("PR-42"), "pr-42");
});

test("refuses names that are not DNS labels with exit 2", () => {
  for (const bad of ["../x", "..", "!!!", "", "   ", "-a", "a-", "a.b", "x".repeat(64), "y".repeat(200)]) {
    try {
      normaliseName(bad);
      assert.unreachable(`"${bad}" was accepted`);
    } catch (e) {
      assert.instance(e, CiloError);
      assert.is((e as CiloError).exitCode, 2, bad);
      assert.not.match((e as Error).message, /\n/);
    }
  }
});

test("accepts 63 characters, refuses 64 with the length in the message", () => {
  assert.is(normaliseName("a".repeat(63)).length, 63);
  assert.throws(() => normaliseName("a".repeat(64)), /64 characters/);
});

test("an empty name is refused with a grammatical hint", () => {
  for (const [kind, article] of [
    ["env", "an"],
    ["project", "a"],
  ] as const) {
    try {
      normaliseName(" ", kind);
      assert.unreachable("an empty name was accepted");
    } catch (e) {
      assert.is((e as CiloError).hint, `Give ${article} ${kind} name such as "feat-login"`);
    }
  }
});

test("parseEnvRef: a branch name is one env name; <project>:<env> names both", () => {
  assert.equal(parseEnvRef("feat-x"), { env: "feat-x" });
  assert.equal(parseEnvRef("Feat/Login"), { env: "feat-login", legacy: { project: "feat", env: "login" } });
  assert.equal(parseEnvRef("feat/a/b"), { env: "feat-a-b" });
  assert.equal(parseEnvRef("shop:feat/login"), { project: "shop", env: "feat-login" });
  assert.equal(parseEnvRef("Shop:Feat_Login"), { project: "shop", env: "feat-login" });
  assert.equal(qualifiedEnv("shop", "feat-login"), "shop:feat-login");
});

test("parseEnvRef refuses a bad part of <project>:<env> with exit 2, one line", () => {
  for (const bad of [":x", "shop:", "a:b:c", "../x:y", "shop:.."]) {
    try {
      parseEnvRef(bad);
      assert.unreachable(`"${bad}" was accepted`);
    } catch (e) {
      assert.is((e as CiloError).exitCode, 2, bad);
      assert.not.match((e as Error).message, /\n/);
    }
  }
});

test.run();
