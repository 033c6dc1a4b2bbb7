// Editors find cilo's schemas: `cilo workflow new` and `cilo config new` name the schema of the
// installed cilo, relative for a project's local install (node_modules/cilo of the project or a
// folder above it), absolute for a global install or a checkout.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "jsonc-parser";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { newProjectConfig } from "../../src/core/config/new-config.ts";
import { CiloError } from "../../src/core/errors.ts";
import { schemaReference, shippedSchema } from "../../src/core/schema-ref.ts";

const root = new URL("../../", import.meta.url).pathname;

test("the shipped schemas are the files in schema/, each with its $id", () => {
  for (const name of ["cilo.workflow.schema.json", "cilo.config.schema.json"] as const) {
    assert.is(shippedSchema(name), join(root, "schema", name));
    assert.is(JSON.parse(readFileSync(shippedSchema(name), "utf8")).$id, `https://cilo.dev/schema/${name}`);
  }
});

test("schemaReference: relative into a local install's node_modules, absolute otherwise", () => {
  const local = "/home/me/shop/node_modules/cilo/schema/cilo.workflow.schema.json";
  assert.is(schemaReference(local, "/home/me/shop/cilo.workflow.yaml"), "./node_modules/cilo/schema/cilo.workflow.schema.json");
  assert.is(schemaReference(local, "/home/me/shop/ci/jobs/e2e.yaml"), "../../node_modules/cilo/schema/cilo.workflow.schema.json");
  // A monorepo: cilo installed at the top, the file in a package.
  assert.is(schemaReference(local, "/home/me/shop/packages/api/cilo.jsonc"), "../../node_modules/cilo/schema/cilo.workflow.schema.json");
  // Global installs and checkouts: the absolute path.
  const global = "/usr/lib/node_modules/cilo/schema/cilo.workflow.schema.json";
  assert.is(schemaReference(global, "/home/me/shop/cilo.workflow.yaml"), global);
  const checkout = "/home/me/src/cilo/schema/cilo.workflow.schema.json";
  assert.is(schemaReference(checkout, "/home/me/shop/cilo.workflow.yaml"), checkout);
  // Another project's local install is not this one's.
  assert.is(schemaReference(local, "/home/me/other/cilo.workflow.yaml"), local);
});

test("config new writes cilo.jsonc with $schema and the project's name, and never over a config file", () => {
  const base = mkdtempSync(join(tmpdir(), "cilo-cfgnew-"));
  try {
    const dir = join(base, "My_Shop");
    mkdirSync(dir);
    const made = newProjectConfig({ cwd: dir, env: {} });
    assert.is(made.path, join(dir, "cilo.jsonc"));
    const config = parse(readFileSync(made.path, "utf8"));
    assert.equal(config, { $schema: join(root, "schema/cilo.config.schema.json"), project: "my-shop" });
    try {
      newProjectConfig({ cwd: base, env: {} }, "My_Shop");
      assert.unreachable("overwrote");
    } catch (e) {
      assert.instance(e, CiloError);
      assert.is((e as CiloError).exitCode, 2);
    }
    const yml = join(base, "yml");
    mkdirSync(join(yml, ".cilo"), { recursive: true });
    writeFileSync(join(yml, ".cilo/config.yml"), "project: y\n");
    assert.throws(() => newProjectConfig({ cwd: yml, env: {} }), /config\.yml already exists/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test.run();
