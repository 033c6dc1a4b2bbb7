// One database per env on a shared PostgreSQL server (docs/data.md): what the config and labels
// ask for, the names and variables, the SQL sent through psql, and the refusals.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  databaseEnvironment,
  dropEnvDatabases,
  ensureEnvDatabases,
  envDatabaseName,
  envDatabases,
  perEnvDatabaseSpecs,
  quoteIdent,
  quoteLiteral,
} from "../../src/core/shared/per-env-db.ts";
import { transformCompose } from "../../src/core/compose/transform.ts";
import type { CiloError } from "../../src/core/errors.ts";
import { FakeProvider } from "../helpers/fake-provider.ts";
import { testContext } from "../helpers/context.ts";

const model = (labels: Record<string, string> = {}, environment: unknown = { POSTGRES_PASSWORD: "p@ss:w/rd" }) => ({
  services: { app: { image: "app" }, db: { image: "postgres", labels, environment } },
});

function thrown(fn: () => unknown): CiloError {
  try {
    fn();
  } catch (e) {
    return e as CiloError;
  }
  throw new Error("did not throw");
}

test("config: per_env: database with a template; user and password from the service's environment", () => {
  const specs = perEnvDatabaseSpecs(model(), { shared: { db: { per_env: "database", template: "app_tpl" } } }, ["db"]);
  assert.equal(specs, [{ service: "db", template: "app_tpl", user: "postgres", password: "p@ss:w/rd", port: 5432 }]);
  const list = perEnvDatabaseSpecs(model({}, ["POSTGRES_USER=shop"]), { shared: { db: { per_env: "database", template: "t" } } }, ["db"]);
  assert.equal(list, [{ service: "db", template: "t", user: "shop", port: 5432 }]);
});

test("labels: cilo.share.per_env and cilo.share.template; a plain shared service asks for nothing", () => {
  const specs = perEnvDatabaseSpecs(model({ "cilo.share.per_env": "database", "cilo.share.template": "tpl" }), {}, ["db"]);
  assert.is(specs[0]!.template, "tpl");
  assert.equal(perEnvDatabaseSpecs(model({ "cilo.share": "true" }), { shared: ["db"] }, ["db"]), []);
  // An isolated service (not in the shared list) gets no per-env database.
  assert.equal(perEnvDatabaseSpecs(model({ "cilo.share.per_env": "database", "cilo.share.template": "tpl" }), {}, []), []);
});

test("other engines are refused with one line saying only PostgreSQL is supported (exit 2)", () => {
  const e = thrown(() =>
    perEnvDatabaseSpecs(model({ "cilo.share.per_env": "database", "cilo.share.engine": "mysql", "cilo.share.template": "t" }), {}, ["db"]),
  );
  assert.is(e.code, "E_DB_ENGINE");
  assert.is(e.exitCode, 2);
  assert.match(e.message, /supports only PostgreSQL/);
  assert.not.match(e.message, /\n/);
});

test("a missing or unsafe template name, or another per_env value, is exit 2", () => {
  for (const labels of [
    { "cilo.share.per_env": "database" },
    { "cilo.share.per_env": "database", "cilo.share.template": 'x"; DROP DATABASE postgres; --' },
    { "cilo.share.per_env": "schema", "cilo.share.template": "t" },
  ]) {
    const e = thrown(() => perEnvDatabaseSpecs(model(labels), {}, ["db"]));
    assert.is(e.exitCode, 2, e.message);
  }
});

test("the env's database name: cilo_<env> with _ for -, at most 63 bytes, distinct for long names", () => {
  assert.is(envDatabaseName("feat-login"), "cilo_feat_login");
  const a = envDatabaseName(`${"a".repeat(62)}b`);
  const b = envDatabaseName(`${"a".repeat(62)}c`);
  assert.ok(a.length <= 63 && b.length <= 63);
  assert.is.not(a, b);
});

test("CILO_DB_<SERVICE>_NAME and _URL; the host one for cilo run; identifiers and literals quoted", () => {
  const [spec] = perEnvDatabaseSpecs(model(), { shared: { db: { per_env: "database", template: "t" } } }, ["db"]);
  const dbs = envDatabases([spec!], "feat-x");
  assert.equal(databaseEnvironment(dbs), {
    CILO_DB_DB_NAME: "cilo_feat_x",
    CILO_DB_DB_URL: "postgresql://postgres:p%40ss%3Aw%2Frd@db:5432/cilo_feat_x",
  });
  assert.is(databaseEnvironment(dbs, () => "10.1.2.3")["CILO_DB_DB_URL"], "postgresql://postgres:p%40ss%3Aw%2Frd@10.1.2.3:5432/cilo_feat_x");
  assert.is(quoteIdent('a"b'), '"a""b"');
  assert.is(quoteLiteral("a'b"), "'a''b'");
});

test("the transform gives every service of the env the variables", () => {
  const out = transformCompose({
    model: { services: { app: { image: "app", environment: ["A=1"] }, web: { image: "web" } } },
    project: "p",
    env: "e",
    home: { id: "h", path: "/h" },
    dockerName: "cilo_h_p_e",
    subnet: "10.0.0.0/24",
    environment: { CILO_DB_DB_NAME: "cilo_e" },
  });
  const services = out.model["services"] as Record<string, { environment: unknown }>;
  assert.equal(services["app"]!.environment, ["A=1", "CILO_DB_DB_NAME=cilo_e"]);
  assert.equal(services["web"]!.environment, { CILO_DB_DB_NAME: "cilo_e" });
});

/** A PostgreSQL server as far as psql -c shows it: a set of databases. */
class FakePostgres extends FakeProvider {
  databases = new Set(["postgres", "template1", "tpl"]);
  sql: string[] = [];
  override async exec(id: string, cmd: string[]): Promise<{ code: number; output: string }> {
    this.execs.push({ id, cmd });
    const sql = cmd[cmd.length - 1]!;
    this.sql.push(sql);
    const name = (re: RegExp) => re.exec(sql)?.[1];
    if (sql === "SHOW server_version_num") return { code: 0, output: "150018\n" };
    const looked = /^SELECT datname FROM pg_database WHERE datname IN \('(.*)', '(.*)'\)$/.exec(sql);
    if (looked)
      return {
        code: 0,
        output: looked
          .slice(1)
          .filter((d) => this.databases.has(d))
          .join("\n"),
      };
    const created = name(/^CREATE DATABASE "(.*)" TEMPLATE ".*"$/);
    if (created !== undefined) {
      this.databases.add(created);
      return { code: 0, output: "" };
    }
    const dropped = name(/^DROP DATABASE IF EXISTS "(.*)" WITH \(FORCE\)$/);
    if (dropped !== undefined) {
      this.databases.delete(dropped);
      return { code: 0, output: "" };
    }
    return { code: 3, output: `ERROR:  unexpected ${sql}` };
  }
}

test("ensure: created once from the template (idempotent), dropped WITH (FORCE); a missing template is exit 2", async () => {
  const fake = new FakePostgres();
  const ctx = testContext({ home: mkdtempSync(join(tmpdir(), "cilo-pedb-")), provider: fake });
  const server = fake.addContainer({ name: "db-1", labels: { "cilo.service": "db" } });
  const spec = { service: "db", template: "tpl", user: "postgres", port: 5432 };
  const dbs = await ensureEnvDatabases(ctx, [server], [spec], "a");
  assert.is(dbs[0]!.name, "cilo_a");
  assert.ok(fake.databases.has("cilo_a"));
  await ensureEnvDatabases(ctx, [server], [spec], "a");
  assert.is(fake.sql.filter((s) => s.startsWith("CREATE")).length, 1);
  assert.is(fake.execs.length, 3, "two round trips to create, one to find it exists");
  assert.equal(fake.execs[0]!.cmd.slice(0, 9), ["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-U", "postgres"]);
  const e = await ensureEnvDatabases(ctx, [server], [{ ...spec, template: "nope" }], "b").catch((x: CiloError) => x);
  assert.is((e as CiloError).code, "E_DB_TEMPLATE_MISSING");
  assert.is((e as CiloError).exitCode, 2);
  assert.not.ok(fake.databases.has("cilo_b"));
  assert.equal(await dropEnvDatabases(ctx, [server], dbs), []);
  assert.not.ok(fake.databases.has("cilo_a"));
  // A record edited by hand to name another database is left alone (and returned for a warning).
  const edited = { ...dbs[0]!, name: "postgres" };
  assert.equal(await dropEnvDatabases(ctx, [server], [edited]), [edited]);
  assert.ok(fake.databases.has("postgres"));
});

test("a server still starting (psql exit 2) is retried; an SQL error is not", async () => {
  const fake = new FakePostgres();
  const real = fake.exec.bind(fake);
  let refusals = 2;
  fake.exec = async (id, cmd) =>
    refusals-- > 0 ? { code: 2, output: 'psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed' } : real(id, cmd);
  const ctx = testContext({ home: mkdtempSync(join(tmpdir(), "cilo-pedb-")), provider: fake });
  const server = fake.addContainer({ name: "db-1", labels: { "cilo.service": "db" } });
  await ensureEnvDatabases(ctx, [server], [{ service: "db", template: "tpl", user: "postgres", port: 5432 }], "a");
  assert.ok(fake.databases.has("cilo_a"));
  fake.exec = async () => ({ code: 3, output: "ERROR:  permission denied to create database" });
  const e = (await ensureEnvDatabases(ctx, [server], [{ service: "db", template: "tpl", user: "postgres", port: 5432 }], "b").catch((x) => x)) as CiloError;
  assert.is(e.code, "E_DB_FAILED");
  assert.match(e.message, /permission denied to create database/);
});

test("a container without psql is refused as not PostgreSQL", async () => {
  const fake = new FakePostgres();
  fake.exec = async () => ({ code: 126, output: 'OCI runtime exec failed: exec: "psql": executable file not found in $PATH' });
  const ctx = testContext({ home: mkdtempSync(join(tmpdir(), "cilo-pedb-")), provider: fake });
  const server = fake.addContainer({ name: "db-1", labels: { "cilo.service": "db" } });
  const e = (await ensureEnvDatabases(ctx, [server], [{ service: "db", template: "tpl", user: "postgres", port: 5432 }], "a").catch((x) => x)) as CiloError;
  assert.is(e.code, "E_DB_ENGINE");
  assert.match(e.message, /supports only PostgreSQL/);
});

test.run();
