import { hostNameProblem } from "../host-address.ts";
import { CONFIG_FILES } from "./config-files.ts";
import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { CiloError, ExitCode, messageOf } from "../errors.ts";
import { normaliseName } from "../names.ts";
import { hostnameEntry, isServiceName, projectDnsSuffix, shown } from "../dns-names.ts";
import { importJsonc, importYaml } from "../vendor.ts";

/** An `env.render` entry: a path, or the older `{file, tokens: true}` form (SPEC §6a). */
export type RenderEntry = string | { file: string; tokens?: boolean };

/** A project's `.cilo/config.yml` or `cilo.jsonc` (SPEC §4). All keys are optional. */
export interface ProjectConfig {
  /** Project name; default: the folder name. */
  project?: string;
  /** Compose files, relative to the project folder; default: compose's own lookup. */
  compose_files?: string[];
  /** Extra `--env-file`s for compose. */
  env_files?: string[];
  /** Compose profiles enabled on `up`. */
  profiles?: string[];
  /** DNS suffix for this project's envs, overriding the machine's. */
  dns_suffix?: string;
  /** The ingress service (gets `<project>.<env>.<suffix>` and the wildcard). */
  ingress?: string;
  /** Extra DNS labels per service. */
  hostnames?: Record<string, string[]>;
  clone?: { mode?: "copy" | "reflink" | "worktree"; include?: string[]; exclude?: string[]; respect_gitignore?: boolean };
  env?: { render?: RenderEntry[] };
  /**
   * Services shared across this project's envs: a list of names, or a mapping of name to `true` or
   * to {@link SharedServiceConfig} (one database per env on the shared server, docs/data.md).
   */
  shared?: string[] | Record<string, true | SharedServiceConfig>;
  /** A snapshot (`cilo snapshot create`) whose volumes every new env's start as copies of. */
  seed?: string;
  /** The host (`cilo host add`) new envs of the project are created on; `cilo create --on` overrides it (docs/remote.md). */
  host?: string;
}

/** `shared: { <service>: { per_env: database, template: <name> } }`: each env its own database on the one server. */
export interface SharedServiceConfig {
  per_env?: "database";
  /** The database every env's is created from (`CREATE DATABASE … TEMPLATE`). */
  template?: string;
  /** The server's engine; only `postgresql` is supported (the default). */
  engine?: string;
}

/** The names of the services the config's `shared` lists (either form). */
export function sharedConfigNames(config: ProjectConfig): string[] {
  const shared = config.shared;
  if (shared === undefined) return [];
  return Array.isArray(shared) ? shared : Object.keys(shared);
}

/**
 * Every key cilo reads, and what kind of value it takes (as schema/cilo.config.schema.json and
 * docs/config.md say; test/unit/config-schema.test.ts compares them). The type makes a key added to
 * {@link ProjectConfig} without an entry here (or the reverse) a compile error.
 */
const KEY_KINDS: Record<keyof ProjectConfig, "string" | "string list" | "mapping" | "string list or mapping"> = {
  project: "string",
  compose_files: "string list",
  env_files: "string list",
  profiles: "string list",
  dns_suffix: "string",
  ingress: "string",
  hostnames: "mapping",
  clone: "mapping",
  env: "mapping",
  shared: "string list or mapping",
  seed: "string",
  host: "string",
};
export const CONFIG_KEYS = Object.keys(KEY_KINDS) as (keyof ProjectConfig)[];

/**
 * Keys cilo once parsed and no longer reads: a file that still sets one gets a warning (once per
 * file and command), not an error, since the key never changed what cilo did.
 */
export const RETIRED_KEYS: Record<string, string> = {
  default_environment: "cilo never used it and ignores it; name the env on the command line (`cilo up <env>`, or `<project>:<env>` outside the project folder)",
};
const warnedRetired = new Set<string>();

export interface LoadedConfig {
  config: ProjectConfig;
  /** The file it came from, if any. */
  file?: string;
}

export { CONFIG_FILES };

/** Reads a project's config file if it has one. Invalid files are a usage error (exit 2). */
/** Reads the project's config file in `dir`; `log` hears about retired keys the file still sets. */
export async function loadProjectConfig(dir: string, log?: { warn(message: string): void }): Promise<LoadedConfig> {
  for (const rel of CONFIG_FILES) {
    const file = join(dir, rel);
    if (!existsSync(file)) continue;
    const text = readFileSync(file, "utf8");
    const json = rel.endsWith(".json") || rel.endsWith(".jsonc");
    // Loaded outside the try: a parser that fails to load is cilo's bug (exit 1), not a bad file.
    const jsonc = json ? await importJsonc() : undefined;
    const yaml = json ? undefined : await importYaml();
    let doc: unknown;
    try {
      if (jsonc) {
        const { parse, printParseErrorCode } = jsonc;
        const errors: { error: number; offset: number }[] = [];
        doc = parse(text, errors as any, { allowTrailingComma: true });
        if (errors.length > 0) {
          const e = errors[0]!;
          const { line, col } = lineCol(text, e.offset);
          throw new Error(`${printParseErrorCode(e.error as any)} at line ${line}, column ${col}`);
        }
      } else {
        doc = yaml!.parse(text);
      }
    } catch (e) {
      throw new CiloError("E_CONFIG_INVALID", `The config file ${file} cannot be parsed: ${messageOf(e).split("\n")[0]}`, { exitCode: ExitCode.usage });
    }
    if (doc === null || doc === undefined) doc = {};
    if (typeof doc !== "object" || Array.isArray(doc)) {
      throw new CiloError("E_CONFIG_INVALID", `The config file ${file} must hold a mapping of keys`, { exitCode: ExitCode.usage });
    }
    return { config: checkConfig(doc as Record<string, unknown>, file, log), file };
  }
  return { config: {} };
}

function checkConfig(doc: Record<string, unknown>, file: string, log: { warn(message: string): void } | undefined): ProjectConfig {
  const bad = (key: string, what: string) => new CiloError("E_CONFIG_INVALID", `In ${file}, "${key}" must be ${what}`, { exitCode: ExitCode.usage });
  const strList = (key: string) => {
    const v = doc[key];
    if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === "string"))) throw bad(key, "a list of strings");
  };
  for (const k of CONFIG_KEYS) {
    if (KEY_KINDS[k] === "string list") strList(k);
    else if (KEY_KINDS[k] === "string" && doc[k] !== undefined && typeof doc[k] !== "string") throw bad(k, "a string");
  }
  for (const [k, why] of Object.entries(RETIRED_KEYS)) {
    if (!Object.hasOwn(doc, k)) continue;
    if (log && !warnedRetired.has(`${file}\0${k}`)) {
      log.warn(`In ${file}, "${k}" is no longer read: ${why}`);
      warnedRetired.add(`${file}\0${k}`);
    }
    delete doc[k];
  }
  if (doc["host"] !== undefined) {
    const why = hostNameProblem(doc["host"] as string);
    if (why) throw new CiloError("E_CONFIG_INVALID", `In ${file}, "host": ${why}`, { exitCode: ExitCode.usage });
  }
  // The suffix goes into dnsmasq's config and the system resolver's: only DNS labels get in.
  if (doc["dns_suffix"] !== undefined) doc["dns_suffix"] = projectDnsSuffix(doc["dns_suffix"], `In ${file}, "dns_suffix"`);
  const hn = doc["hostnames"];
  if (hn !== undefined) {
    if (typeof hn !== "object" || hn === null || Array.isArray(hn)) throw bad("hostnames", "a mapping of service to a list of names");
    for (const [svc, names] of Object.entries(hn)) {
      if (!isServiceName(svc))
        throw new CiloError("E_CONFIG_INVALID", `In ${file}, "hostnames" names the service ${shown(svc)}, which is not a service name`, {
          exitCode: ExitCode.usage,
        });
      let list: unknown = names;
      if (typeof names === "string")
        list = names
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
      else if (!(Array.isArray(names) && names.every((x) => typeof x === "string"))) throw bad(`hostnames.${svc}`, "a list of names");
      (hn as Record<string, unknown>)[svc] = (list as string[]).map((n) => hostnameEntry(n, `In ${file}, the hostname of ${svc}`));
    }
  }
  const env = doc["env"];
  if (env !== undefined) {
    if (typeof env !== "object" || env === null) throw bad("env", "a mapping");
    const render = (env as Record<string, unknown>)["render"];
    if (render !== undefined) {
      if (!Array.isArray(render)) throw bad("env.render", "a list of files");
      for (const r of render) {
        const ok = typeof r === "string" || (typeof r === "object" && r !== null && typeof (r as any).file === "string");
        if (!ok) throw bad("env.render", 'a list of paths or {file: "...", tokens: true} entries');
      }
    }
  }
  const shared = doc["shared"];
  if (Array.isArray(shared)) strList("shared");
  else if (shared !== undefined) {
    if (typeof shared !== "object" || shared === null) throw bad("shared", "a list of service names or a mapping of service to its sharing");
    for (const [svc, how] of Object.entries(shared)) {
      if (how === true) continue;
      if (typeof how !== "object" || how === null || Array.isArray(how))
        throw bad(`shared.${svc}`, "true or a mapping such as {per_env: database, template: <database>}");
      for (const k of Object.keys(how))
        if (!["per_env", "template", "engine"].includes(k)) throw bad(`shared.${svc}`, `a mapping of per_env, template and engine (not ${JSON.stringify(k)})`);
      const h = how as Record<string, unknown>;
      if (h["per_env"] !== undefined && h["per_env"] !== "database") throw bad(`shared.${svc}.per_env`, '"database"');
      for (const k of ["template", "engine"]) if (h[k] !== undefined && typeof h[k] !== "string") throw bad(`shared.${svc}.${k}`, "a string");
    }
  }
  const clone = doc["clone"];
  if (clone !== undefined) {
    if (typeof clone !== "object" || clone === null) throw bad("clone", "a mapping");
    const mode = (clone as any).mode;
    if (mode !== undefined && !["copy", "reflink", "worktree"].includes(mode)) throw bad("clone.mode", "one of copy, reflink, worktree");
    const gitignore = (clone as Record<string, unknown>)["respect_gitignore"];
    if (gitignore !== undefined && typeof gitignore !== "boolean") throw bad("clone.respect_gitignore", "true or false");
  }
  return doc as ProjectConfig;
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, col: (before[before.length - 1]?.length ?? 0) + 1 };
}

/** The project's name: `--project`, else the config's `project`, else the folder name (SPEC §6). */
export function projectName(dir: string, config: ProjectConfig, explicit?: string): string {
  if (explicit) return normaliseName(explicit, "project");
  if (config.project) return normaliseName(config.project, "project");
  return normaliseName(basename(resolve(dir)), "project");
}
