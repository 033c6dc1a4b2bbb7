import { createHash } from "node:crypto";
import type { CiloContext } from "../context/context.ts";
import { CiloError, ExitCode, messageOf, usageError } from "../errors.ts";
import { LABEL_SERVICE, LABEL_SHARE_ENGINE, LABEL_SHARE_PER_ENV, LABEL_SHARE_TEMPLATE } from "../labels.ts";
import { serviceEnvironmentOf, serviceLabelsOf } from "../compose/model-shape.ts";
import type { ProjectConfig } from "../config/project-config.ts";
import { pollUntil } from "../poll.ts";
import type { ContainerState, RuntimeProvider } from "../runtime/provider.ts";
import { sharedContainers } from "../runtime/env-resources.ts";
import type { EnvDatabase, EnvRecord } from "../state/schema.ts";
import { readState } from "../state/store.ts";

/**
 * One database per env on a shared PostgreSQL server (docs/data.md): `shared: {db: {per_env:
 * database, template: app}}` in the project config, or the labels `cilo.share.per_env: database`
 * and `cilo.share.template: app` on the service. Each env using the shared service gets the
 * database `cilo_<env>` made from the template (`CREATE DATABASE … TEMPLATE`, through `psql` run
 * with `docker exec` in the server's container), and its services get `CILO_DB_<SERVICE>_NAME` and
 * `CILO_DB_<SERVICE>_URL`; destroy drops it.
 */
export interface PerEnvDatabaseSpec {
  service: string;
  template: string;
  /** The role psql connects as and the URL names: the service's POSTGRES_USER, else `postgres`. */
  user: string;
  /** The service's POSTGRES_PASSWORD, for the URL only. */
  password?: string;
  port: number;
}

const PG_PORT = 5432;
/** What a database name may be here: it goes into SQL (quoted as well) and URLs. */
const DB_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;
/** A role name: it goes to psql's -U as one argument and into the URL (encoded). */
const ROLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,62}$/;

/** The per-env databases asked of the shared services `shared` (config first, then labels). */
export function perEnvDatabaseSpecs(model: Record<string, unknown>, config: ProjectConfig, shared: string[]): PerEnvDatabaseSpec[] {
  const out: PerEnvDatabaseSpec[] = [];
  const mapping = config.shared !== undefined && !Array.isArray(config.shared) ? config.shared : {};
  for (const service of [...shared].sort()) {
    const fromConfig = mapping[service];
    const how = typeof fromConfig === "object" ? fromConfig : undefined;
    const labels = serviceLabelsOf(model, service);
    const perEnv = how?.per_env ?? labels[LABEL_SHARE_PER_ENV];
    if (perEnv === undefined) continue;
    if (perEnv !== "database") {
      throw usageError(`The label ${LABEL_SHARE_PER_ENV} of service "${service}" must be "database", not ${JSON.stringify(perEnv.slice(0, 40))}`);
    }
    const engine = how?.engine ?? labels[LABEL_SHARE_ENGINE] ?? "postgresql";
    if (!/^postgres(ql)?$/i.test(engine)) throw onlyPostgres(service, `its engine is ${JSON.stringify(engine.slice(0, 40))}`);
    const template = how?.template ?? labels[LABEL_SHARE_TEMPLATE];
    if (template === undefined || template === "") {
      throw usageError(
        `The shared service "${service}" has per_env: database but no template`,
        `Name the database every env's is made from: shared: {${service}: {per_env: database, template: <database>}} or the label ${LABEL_SHARE_TEMPLATE}`,
      );
    }
    if (!DB_NAME.test(template)) {
      throw usageError(
        `The template database ${JSON.stringify(template.slice(0, 70))} of the shared service "${service}" is not a name cilo accepts`,
        'Use letters, digits, "_", "." and "-" (at most 63)',
      );
    }
    const environment = serviceEnvironmentOf(model, service);
    const user = environment["POSTGRES_USER"] || "postgres";
    if (!ROLE_NAME.test(user)) throw usageError(`The POSTGRES_USER of the shared service "${service}" is not a role name cilo accepts`);
    const password = environment["POSTGRES_PASSWORD"];
    out.push({ service, template, user, ...(password ? { password } : {}), port: PG_PORT });
  }
  return out;
}

function onlyPostgres(service: string, why: string): CiloError {
  return new CiloError("E_DB_ENGINE", `One database per env (per_env: database) supports only PostgreSQL; the shared service "${service}" is not: ${why}`, {
    hint: `Remove per_env from "${service}" (or isolate it per env: cilo up --isolate ${service})`,
  });
}

/** The env's database: `cilo_<env>` with `-` as `_` (env names have no `_`), shortened with a hash past 63 bytes. */
export function envDatabaseName(env: string): string {
  const name = `cilo_${env.replace(/-/g, "_")}`;
  if (name.length <= 63) return name;
  return `${name.slice(0, 54)}_${createHash("sha256").update(env).digest("hex").slice(0, 8)}`;
}

/** `CILO_DB_<SERVICE>_` (upper case, other characters as `_`). */
function variablePrefix(service: string): string {
  return `CILO_DB_${service.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_`;
}

/** The records of the env's databases, with the URL its services reach them by (host = service name). */
export function envDatabases(specs: PerEnvDatabaseSpec[], env: string): EnvDatabase[] {
  return specs.map((s) => {
    const name = envDatabaseName(env);
    const auth = `${encodeURIComponent(s.user)}${s.password !== undefined ? `:${encodeURIComponent(s.password)}` : ""}`;
    return { service: s.service, name, template: s.template, user: s.user, url: `postgresql://${auth}@${s.service}:${s.port}/${name}` };
  });
}

/**
 * `CILO_DB_<SERVICE>_NAME` and `CILO_DB_<SERVICE>_URL` of each database. `host` replaces the
 * service name in the URL (`cilo run` on the host passes the server's address).
 */
export function databaseEnvironment(databases: EnvDatabase[], host?: (service: string) => string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of databases) {
    const p = variablePrefix(d.service);
    const at = host?.(d.service);
    out[`${p}NAME`] = d.name;
    out[`${p}URL`] = at ? d.url.replace(`@${d.service}:`, `@${at}:`) : d.url;
  }
  return out;
}

/** A PostgreSQL identifier in double quotes (a `"` doubled). */
export function quoteIdent(name: string): string {
  if (name.includes("\0")) throw usageError("A database name cannot contain a NUL character");
  return `"${name.replace(/"/g, '""')}"`;
}

/** A PostgreSQL string literal (standard_conforming_strings: only `'` is special). */
export function quoteLiteral(value: string): string {
  if (value.includes("\0")) throw usageError("A database name cannot contain a NUL character");
  return `'${value.replace(/'/g, "''")}'`;
}

interface Server {
  provider: RuntimeProvider;
  container: ContainerState;
  spec: PerEnvDatabaseSpec;
}

/** psql's exit codes: 1 a client error, 2 no connection, 3 an SQL error under ON_ERROR_STOP. */
async function psql(server: Server, sql: string): Promise<{ code: number; output: string }> {
  const cmd = ["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-U", server.spec.user, "-d", "postgres", "-c", sql];
  const r = await server.provider.exec(server.container.id, cmd);
  if (r.code === 126 || r.code === 127 || /executable file not found|no such file or directory: unknown/i.test(r.output)) {
    throw onlyPostgres(server.spec.service, "its container has no psql");
  }
  return { code: r.code, output: r.output.trim() };
}

async function query(server: Server, sql: string, what: string): Promise<string> {
  const r = await psql(server, sql);
  if (r.code !== 0) throw dbFailure(server, what, r.output);
  return r.output;
}

function dbFailure(server: Server, what: string, output: string): CiloError {
  const line = output.split("\n").find((l) => /ERROR|FATAL|error/.test(l)) ?? output.split("\n")[0] ?? "";
  return new CiloError("E_DB_FAILED", `${what} on the shared server "${server.spec.service}" failed: ${line.slice(0, 300)}`, {
    hint: `See the server's log: docker logs ${server.container.name}`,
  });
}

/**
 * Runs `sql` once the server takes connections (a fresh server may still be initialising: psql's
 * exit code 2 is retried until `timeoutMs`), and returns its output.
 */
async function whenAccepting(server: Server, sql: string, what: string, timeoutMs: number): Promise<string> {
  let output = "";
  await pollUntil(
    async () => {
      const r = await psql(server, sql);
      output = r.output;
      if (r.code === 0) return { ready: true };
      if (r.code === 2) return { ready: false, why: r.output.split("\n")[0] ?? "no connection", fatal: false };
      return { ready: false, why: r.output, fatal: true };
    },
    {
      deadline: Date.now() + timeoutMs,
      intervalMs: 200,
      backoff: 1.5,
      maxIntervalMs: 2000,
      failed: (why) => dbFailure(server, what, why),
      timedOut: (last) => dbFailure(server, `Connecting (for ${Math.round(timeoutMs / 1000)} s)`, last),
    },
  );
  return output;
}

function serverOf(provider: RuntimeProvider, containers: ContainerState[], spec: PerEnvDatabaseSpec): Server {
  const container = containers.find((c) => c.labels[LABEL_SERVICE] === spec.service && c.state === "running");
  if (!container) {
    throw new CiloError("E_DB_FAILED", `The shared server "${spec.service}" is not running, so the env's database cannot be made`, {
      hint: "See cilo shared list and cilo doctor",
    });
  }
  return { provider, container, spec };
}

/**
 * Makes each env database that does not exist yet from its template (idempotent: an existing one
 * is kept with its data). A template that does not exist is E_DB_TEMPLATE_MISSING (exit 2).
 */
export async function ensureEnvDatabases(
  ctx: CiloContext,
  containers: ContainerState[],
  specs: PerEnvDatabaseSpec[],
  env: string,
  timeoutMs = 120_000,
): Promise<EnvDatabase[]> {
  const provider = await ctx.provider();
  const databases = envDatabases(specs, env);
  for (const [i, spec] of specs.entries()) {
    const db = databases[i]!;
    const server = serverOf(provider, containers, spec);
    // One round trip (each is a docker exec): which of the env's database and the template exist.
    const found = (
      await whenAccepting(
        server,
        `SELECT datname FROM pg_database WHERE datname IN (${quoteLiteral(db.name)}, ${quoteLiteral(spec.template)})`,
        `Looking up the databases ${db.name} and ${spec.template}`,
        timeoutMs,
      )
    ).split("\n");
    if (found.includes(db.name)) continue;
    if (!found.includes(spec.template)) {
      throw new CiloError("E_DB_TEMPLATE_MISSING", `The template database "${spec.template}" does not exist on the shared server "${spec.service}"`, {
        exitCode: ExitCode.usage,
        hint: `Create it on the server first (e.g. in an init script), or fix the template of "${spec.service}" in the shared config`,
      });
    }
    const create = `CREATE DATABASE ${quoteIdent(db.name)} TEMPLATE ${quoteIdent(spec.template)}`;
    // A template with open connections cannot be copied: wait a little for them to end.
    await pollUntil(
      async () => {
        const r = await psql(server, create);
        if (r.code === 0 || /already exists/.test(r.output)) return { ready: true };
        if (/is being accessed by other users/.test(r.output)) return { ready: false, why: r.output, fatal: false };
        return { ready: false, why: r.output, fatal: true };
      },
      {
        deadline: Date.now() + 15_000,
        intervalMs: 250,
        backoff: 1.5,
        maxIntervalMs: 2000,
        failed: (why) => dbFailure(server, `Creating the database ${db.name} from ${spec.template}`, why),
        timedOut: (last) => dbFailure(server, `Creating the database ${db.name} from ${spec.template} (its template stayed in use)`, last),
      },
    );
  }
  return databases;
}

/**
 * Drops the env's databases (destroy): `DROP DATABASE … WITH (FORCE)` on PostgreSQL 13 and later,
 * else its connections are ended first. A server that is gone took the databases with it; one
 * that is stopped cannot drop them, nor is a record with a name cilo would not make: the databases
 * left are returned (the caller warns).
 */
export async function dropEnvDatabases(ctx: CiloContext, containers: ContainerState[], databases: EnvDatabase[]): Promise<EnvDatabase[]> {
  const provider = await ctx.provider();
  const left: EnvDatabase[] = [];
  for (const db of databases) {
    // The record comes from state.json, which a hand can edit: only names cilo makes are dropped.
    if (!DB_NAME.test(db.name) || !ROLE_NAME.test(db.user) || !db.name.startsWith("cilo_")) {
      left.push(db);
      continue;
    }
    const container = containers.find((c) => c.labels[LABEL_SERVICE] === db.service && c.state === "running");
    if (!container) {
      if (containers.some((c) => c.labels[LABEL_SERVICE] === db.service)) left.push(db);
      continue;
    }
    const server: Server = { provider, container, spec: { service: db.service, template: db.template, user: db.user, port: PG_PORT } };
    const version = Number(await query(server, "SHOW server_version_num", "Reading the server version"));
    if (version >= 130000) {
      await query(server, `DROP DATABASE IF EXISTS ${quoteIdent(db.name)} WITH (FORCE)`, `Dropping the database ${db.name}`);
    } else {
      await query(
        server,
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${quoteLiteral(db.name)} AND pid <> pg_backend_pid()`,
        `Ending the connections to ${db.name}`,
      );
      await query(server, `DROP DATABASE IF EXISTS ${quoteIdent(db.name)}`, `Dropping the database ${db.name}`);
    }
  }
  return left;
}

/**
 * Destroy's part: drops the databases `rec` has on its project's shared servers. Never fails the
 * destroy: what cannot be dropped is a warning naming it.
 */
export async function dropDatabasesOf(ctx: CiloContext, rec: EnvRecord): Promise<void> {
  const databases = rec.databases ?? [];
  if (databases.length === 0) return;
  const state = readState(ctx);
  const inst = state.shared?.[rec.project];
  const names = databases.map((d) => `${d.service}/${d.name}`).join(", ");
  try {
    const containers = inst ? await sharedContainers(await ctx.provider(), rec.project, inst.network, state.home_id) : [];
    const left = await dropEnvDatabases(ctx, containers, databases);
    if (left.length > 0)
      ctx.log.warn(
        `The database(s) ${left.map((d) => `${d.service}/${d.name}`).join(", ")} of ${rec.project}/${rec.name} were not dropped: their shared server is stopped, or their record names a database cilo did not make`,
      );
  } catch (e) {
    ctx.log.warn(`Dropping the database(s) ${names} of ${rec.project}/${rec.name} failed: ${messageOf(e).split("\n")[0]}`);
  }
}
