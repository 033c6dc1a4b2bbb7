// One database per env on one shared PostgreSQL server (docs/data.md, issue 18 item 4), against
// the real engine with cilo-test/postgres (scripts/test-postgres-image.sh): each env sees only its
// own rows, the template's rows appear in every env, destroy drops the env's database, and a
// template that does not exist is one line, exit 2, with the env's record and the server as they were.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { freePort, labelled } from "../helpers/docker.ts";

const home = tempDir("cilo-shared-db-");
const work = tempDir("cilo-shared-db-src-");
const source = join(work, "shared-db");
cpSync(join(repoRoot, "examples/shared-db"), source, { recursive: true });
const tag = Math.random().toString(36).slice(2, 6);
const P = `sdb-${tag}`;
const A = `a-${tag}`;
const B = `b-${tag}`;
const C = `c-${tag}`;
const D = `d-${tag}`;
/** A second project, whose shared "db" is not PostgreSQL. */
const Q = `sdbq-${tag}`;
const env = { CILO_SHARED_GRACE_MS: "1000" };
const dbName = (e: string) => `cilo_${e.replace(/-/g, "_")}`;

function ok(args: string[]) {
  const r = cilo(args, { home, env });
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stderr}`);
  return r;
}

function server(): string {
  const ids = labelled("container", `cilo.project=${P}`, "cilo.shared=true", "cilo.service=db");
  assert.is(ids.length, 1, `one shared db container, found ${ids.length}`);
  return ids[0]!;
}

/** psql in the server's container, as cilo runs it. */
function psql(db: string, sql: string): string {
  return execFileSync("docker", ["exec", server(), "psql", "-X", "-tA", "-U", "postgres", "-d", db, "-c", sql], { encoding: "utf8" }).trim();
}

/** The databases on the server (what `\l` lists). */
const databases = () => psql("postgres", "SELECT datname FROM pg_database ORDER BY 1").split("\n");

test.before(async () => {
  ok(["init", "--dns-port", String(await freePort())]);
});

test("two envs get their own database from the template, and their services the variables", () => {
  for (const e of [A, B]) ok(["create", e, "--from", source, "--project", P]);
  for (const e of [A, B]) ok(["up", `${P}:${e}`, "--wait", "--timeout", "3m"]);
  const dbs = databases();
  console.log(`databases on the shared server: ${dbs.join(", ")}`);
  for (const e of [A, B]) assert.ok(dbs.includes(dbName(e)), dbs.join(", "));
  assert.is(ok(["exec", `${P}:${A}`, "app", "printenv", "CILO_DB_DB_NAME"]).stdout.trim(), dbName(A));
  assert.is(ok(["exec", `${P}:${A}`, "app", "printenv", "CILO_DB_DB_URL"]).stdout.trim(), `postgresql://postgres@db:5432/${dbName(A)}`);
  const status = JSON.parse(ok(["status", `${P}:${A}`, "--json"]).stdout);
  assert.is(status.services.find((s: { name: string }) => s.name === "db").sharing, "shared");
});

test("each env sees only its own rows; the template's seeded row is in both", () => {
  psql(dbName(A), "INSERT INTO items VALUES ('only-in-a')");
  psql(dbName(B), "INSERT INTO items VALUES ('only-in-b')");
  // Through cilo run on the host: the URL it exports reaches the env's database.
  const rowsA = ok(["run", `psql "$CILO_DB_DB_URL" -X -tA -c "SELECT string_agg(name, ',' ORDER BY name) FROM items"`, `${P}:${A}`]).stdout.trim();
  const rowsB = ok(["run", `psql "$CILO_DB_DB_URL" -X -tA -c "SELECT string_agg(name, ',' ORDER BY name) FROM items"`, `${P}:${B}`]).stdout.trim();
  console.log(`rows: A=${rowsA} B=${rowsB}`);
  assert.is(rowsA, "only-in-a,seeded");
  assert.is(rowsB, "only-in-b,seeded");
  assert.is(psql("app_template", "SELECT string_agg(name, ',') FROM items"), "seeded");
});

test("up again is idempotent: the env's database and its rows are kept", () => {
  ok(["up", `${P}:${A}`, "--wait"]);
  assert.is(psql(dbName(A), "SELECT count(*) FROM items WHERE name = 'only-in-a'"), "1");
});

test("a template that does not exist: one line, exit 2, the env's record and the server as they were", () => {
  const bad = join(work, "bad");
  cpSync(source, bad, { recursive: true });
  writeFileSync(join(bad, ".cilo/config.yml"), "shared:\n  db:\n    per_env: database\n    template: no_such_template\n");
  ok(["create", C, "--from", bad, "--project", P]);
  const before = JSON.parse(ok(["status", `${P}:${C}`, "--json"]).stdout);
  const r = cilo(["up", `${P}:${C}`], { home, env });
  console.log(`up with a missing template → exit ${r.code}: ${r.stderr.trim()}`);
  assert.is(r.code, 2);
  assert.match(r.stderr, /^cilo: The template database "no_such_template" does not exist on the shared server "db"\n/);
  const after = JSON.parse(ok(["status", `${P}:${C}`, "--json"]).stdout);
  assert.is(after.status, before.status);
  assert.not.ok(databases().includes(dbName(C)));
  const shared = JSON.parse(ok(["shared", "list", "--json"]).stdout);
  const users = shared.services.find((s: { project: string; service: string }) => s.project === P && s.service === "db").users;
  assert.equal(users, [A, B].sort());
  assert.equal(labelled("container", `cilo.env=${C}`), []);
  ok(["destroy", `${P}:${C}`]);
});

test("another engine is refused with one line saying only PostgreSQL is supported (config, and a server without psql)", () => {
  const mysql = join(work, "mysql");
  cpSync(source, mysql, { recursive: true });
  writeFileSync(join(mysql, ".cilo/config.yml"), "shared:\n  db:\n    per_env: database\n    template: app_template\n    engine: mysql\n");
  ok(["create", D, "--from", mysql, "--project", P]);
  const r = cilo(["up", `${P}:${D}`], { home, env });
  console.log(`up with engine: mysql → exit ${r.code}: ${r.stderr.split("\n")[0]}`);
  assert.is(r.code, 2);
  assert.match(r.stderr, /^cilo: One database per env \(per_env: database\) supports only PostgreSQL; the shared service "db" is not: its engine is "mysql"\n/);
  ok(["destroy", `${P}:${D}`]);
  // A shared server whose container has no psql (busybox here), in a project of its own.
  const busy = join(work, "busy");
  mkdirSync(join(busy, ".cilo"), { recursive: true });
  writeFileSync(
    join(busy, "compose.yml"),
    'services:\n  db:\n    image: cilo-test/busybox:latest\n    command: ["sleep", "3600"]\n    labels:\n      cilo.share.per_env: database\n      cilo.share.template: t\n',
  );
  ok(["create", D, "--from", busy, "--project", Q]);
  const b = cilo(["up", `${Q}:${D}`], { home, env });
  console.log(`up with a busybox server → exit ${b.code}: ${b.stderr.split("\n")[0]}`);
  assert.is(b.code, 2);
  assert.match(
    b.stderr,
    /^cilo: One database per env \(per_env: database\) supports only PostgreSQL; the shared service "db" is not: its container has no psql\n/,
  );
  assert.is(JSON.parse(ok(["status", `${Q}:${D}`, "--json"]).stdout).status, "created");
  ok(["destroy", `${Q}:${D}`]);
  cilo(["shared", "down", "db", "--project", Q, "--force"], { home, env });
});

test("destroy drops the env's database (\\l on the server); the other env keeps its own", () => {
  ok(["destroy", `${P}:${A}`]);
  const dbs = databases();
  assert.not.ok(dbs.includes(dbName(A)), dbs.join(", "));
  assert.ok(dbs.includes(dbName(B)));
  assert.is(psql(dbName(B), "SELECT count(*) FROM items"), "2");
});

test.after(() => {
  for (const e of [A, B, C, D]) cilo(["destroy", `${P}:${e}`, "--force"], { home, env });
  cilo(["destroy", `${Q}:${D}`, "--force"], { home, env });
  cilo(["shared", "down", "db", "--project", Q, "--force"], { home, env });
  cilo(["shared", "down", "db", "--project", P, "--force"], { home, env });
  removeDir(home);
  removeDir(work);
});

test.run();
