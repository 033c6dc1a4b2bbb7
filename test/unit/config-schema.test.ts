// schema/cilo.config.schema.json against what src/core/config/project-config.ts reads: the same
// keys, every config file in the repository (and docs/config.md's example) accepted by both, and
// the values cilo refuses refused by the schema too. default_environment is retired: a warning.
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CONFIG_FILES, CONFIG_KEYS, loadProjectConfig } from "../../src/core/config/project-config.ts";

const root = new URL("../../", import.meta.url).pathname;
const schema = JSON.parse(readFileSync(join(root, "schema/cilo.config.schema.json"), "utf8")) as { properties: Record<string, unknown> };
const check = new Ajv({ allowUnionTypes: true }).compile(schema);

/** Every project config file under these folders of the repository. */
function configFiles(dir: string, into: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory() && e.name !== "node_modules") configFiles(path, into);
    else if (CONFIG_FILES.some((f) => relative(root, path).endsWith(f))) into.push(path);
  }
  return into;
}
const files = ["examples", "test/fixtures", "templates"].flatMap((d) => configFiles(join(root, d)));

/** The example under "## A full example" in docs/config.md. */
function docsExample(): string {
  const text = readFileSync(join(root, "docs/config.md"), "utf8");
  const m = /## A full example[\s\S]*?```yaml\n([\s\S]*?)```/.exec(text);
  if (!m) throw new Error('docs/config.md has no "## A full example" with a yaml block');
  return m[1]!;
}

/** Loads a config text as `.cilo/config.yml` of a fresh folder, with the warnings it printed. */
async function load(text: string, name = ".cilo/config.yml"): Promise<{ config?: unknown; error?: string; warnings: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "cilo-config-schema-"));
  mkdirSync(join(dir, ".cilo"));
  writeFileSync(join(dir, name), text);
  const warnings: string[] = [];
  const log = { warn: (s: string) => warnings.push(`cilo: warning: ${s}`) };
  try {
    return { config: (await loadProjectConfig(dir, log)).config, warnings };
  } catch (e) {
    return { error: (e as Error).message, warnings };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the schema names exactly the keys project-config.ts reads (and $schema for editors)", () => {
  const inSchema = Object.keys(schema.properties).filter((k) => k !== "$schema");
  assert.equal([...inSchema].sort(), [...CONFIG_KEYS].sort());
});

test("the schema compiles with ajv's default strict checks", () => {
  assert.not.throws(() => new Ajv({ allowUnionTypes: true, logger: false }).compile(schema));
});

test("the repository holds config files to check (examples, fixtures)", () => {
  assert.ok(files.length >= 3, files.join(", "));
});

for (const file of files) {
  test(`${relative(root, file)} passes the schema and loads without a warning`, async () => {
    const text = readFileSync(file, "utf8");
    assert.ok(check(file.endsWith(".json") || file.endsWith(".jsonc") ? JSON.parse(text) : (parse(text) ?? {})), JSON.stringify(check.errors));
    const r = await load(text);
    assert.is(r.error, undefined);
    assert.equal(r.warnings, []);
  });
}

test("docs/config.md's full example uses every key, passes the schema and loads without a warning", async () => {
  const text = docsExample();
  const doc = parse(text) as Record<string, unknown>;
  assert.equal(Object.keys(doc).sort(), [...CONFIG_KEYS].sort());
  assert.ok(check(doc), JSON.stringify(check.errors));
  const r = await load(text);
  assert.is(r.error, undefined);
  assert.equal(r.warnings, []);
});

const refused: [string, string][] = [
  ["project: 3", "project"],
  ["compose_files: compose.yml", "compose_files"],
  ["env_files: [1]", "env_files"],
  ["profiles: {a: 1}", "profiles"],
  ["shared: db", "shared"],
  ["shared: {db: {per_env: schema, template: app}}", "shared.db.per_env"],
  ["shared: {db: {per_env: database, template: 3}}", "shared.db.template"],
  ["shared: {db: {per_env: database, templat: app}}", "shared.db"],
  ["shared: {db: [1]}", "shared.db"],
  ["ingress: [web]", "ingress"],
  ["dns_suffix: com", "dns_suffix"],
  ["dns_suffix: a..test", "dns_suffix"],
  ["hostnames: {api: 3}", "hostnames.api"],
  ["hostnames: [api]", "hostnames"],
  ["clone: {mode: rsync}", "clone.mode"],
  ["env: {render: [3]}", "env.render"],
  ["env: {render: compose.env}", "env.render"],
];
for (const [text, key] of refused) {
  test(`"${text}": cilo refuses it (naming ${key}) and so does the schema`, async () => {
    const r = await load(`${text}\n`);
    assert.ok(r.error, `cilo accepted ${text}`);
    assert.ok(r.error!.includes(key.split(".")[0]!), r.error);
    assert.not.ok(check(parse(text)), `the schema accepted ${text}`);
  });
}

test("default_environment is retired: one warning per file, the key dropped, the schema refuses it", async () => {
  const r = await load("project: demo\ndefault_environment: dev\n");
  assert.is(r.error, undefined);
  assert.equal(r.config, { project: "demo" });
  assert.is(r.warnings.length, 1);
  assert.match(
    r.warnings[0]!,
    /^cilo: warning: In .*config\.yml, "default_environment" is no longer read: cilo never used it and ignores it; name the env on the command line/,
  );
  assert.not.ok(check({ project: "demo", default_environment: "dev" }));
});

test("shared as a mapping: per_env: database with a template, accepted by cilo and the schema", async () => {
  const text = "shared:\n  db: {per_env: database, template: app_template}\n  cache: true\n";
  const r = await load(text);
  assert.is(r.error, undefined);
  assert.equal(r.config, { shared: { db: { per_env: "database", template: "app_template" }, cache: true } });
  assert.ok(check(parse(text)), JSON.stringify(check.errors));
});

test("cilo.jsonc with $schema: accepted by cilo and the schema", async () => {
  const text = '{ "$schema": "./node_modules/cilo/schema/cilo.config.schema.json", "project": "demo" }';
  const r = await load(text, "cilo.jsonc");
  assert.is(r.error, undefined);
  assert.ok(check(JSON.parse(text)));
});

test.run();
