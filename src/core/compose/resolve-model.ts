import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ExitCode } from "../errors.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { importYaml } from "../vendor.ts";
import { composeFailure, runCompose, type ComposeCli } from "./compose-cli.ts";

export interface ResolveOptions {
  cli: ComposeCli;
  /** Project folder the compose files are relative to (the env's workspace). */
  dir: string;
  files: string[];
  envFiles?: string[];
  profiles?: string[];
  projectName: string;
  /** Where to keep the cache (default `<dir>/.cilo/model-cache.json`); false disables it. */
  cacheFile?: string | false;
}

export interface ResolvedModel {
  model: Record<string, unknown>;
  yaml: string;
  cached: boolean;
}

interface CacheEntry {
  key: string;
  deps: Record<string, string>;
  vars: Record<string, string | null>;
  yaml: string;
}

/**
 * The resolved compose model from the compose CLI's `config` (extends, profiles, several files,
 * `.env` interpolation and `env_file` applied). The answer is cached keyed by everything it
 * depends on — the CLI version, flags, the contents of every file compose reads and the values of
 * the variables the files interpolate — because one `config` call costs about a second with v1.
 * Invalid compose input is a usage error (exit 2).
 */
export async function resolveModel(opts: ResolveOptions): Promise<ResolvedModel> {
  const { parse } = await importYaml();
  const cacheFile = opts.cacheFile === false ? undefined : (opts.cacheFile ?? join(opts.dir, ".cilo", "model-cache.json"));
  const envFile = combinedEnvFile(opts);
  const key = hash(JSON.stringify([opts.cli.command, opts.cli.version, opts.files, opts.envFiles ?? [], opts.profiles ?? [], opts.projectName]));
  const deps = dependencies(opts.dir, opts.files, opts.envFiles ?? [], parse);
  const vars = interpolatedVars(deps);
  if (cacheFile) {
    const entry = readCache(cacheFile);
    if (entry && entry.key === key && sameDeps(entry.deps, deps) && sameVars(entry.vars)) {
      return { model: parse(entry.yaml) as Record<string, unknown>, yaml: entry.yaml, cached: true };
    }
  }
  const r = await runCompose(
    opts.cli,
    { projectName: opts.projectName, files: opts.files, cwd: opts.dir, ...(envFile ? { envFile } : {}), ...(opts.profiles ? { profiles: opts.profiles } : {}) },
    ["config"],
  );
  if (r.code !== 0) throw composeFailure(`The compose project in ${opts.dir} is invalid`, r, ExitCode.usage);
  let model: unknown;
  try {
    model = parse(r.stdout);
  } catch {
    model = undefined;
  }
  if (typeof model !== "object" || model === null) {
    throw composeFailure(`The compose CLI printed no model for ${opts.dir}`, r, ExitCode.usage);
  }
  if (cacheFile) {
    try {
      mkdirSync(dirname(cacheFile), { recursive: true });
      const entry: CacheEntry = { key, deps: hashFiles(deps), vars, yaml: r.stdout };
      writeFileAtomic(cacheFile, JSON.stringify(entry));
    } catch {
      // the cache only saves time
    }
  }
  return { model: model as Record<string, unknown>, yaml: r.stdout, cached: false };
}

/**
 * compose v1 takes one `--env-file`; several are merged (later ones win) into
 * `<dir>/.cilo/interpolation.env`.
 */
function combinedEnvFile(opts: ResolveOptions): string | undefined {
  const files = opts.envFiles ?? [];
  if (files.length === 0) return undefined;
  if (files.length === 1) return resolve(opts.dir, files[0]!);
  const merged = files.map((f) => readFileSync(resolve(opts.dir, f), "utf8").replace(/\n?$/, "\n")).join("");
  const out = join(opts.dir, ".cilo", "interpolation.env");
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic(out, merged);
  return out;
}

/** Every file compose reads: the compose files, `.env`, env files, and the `env_file`/`extends` files they name. */
function dependencies(dir: string, files: string[], envFiles: string[], parse: (s: string) => unknown): string[] {
  const seen = new Set<string>();
  const queue = files.map((f) => resolve(dir, f));
  const add = (p: string) => {
    if (!seen.has(p)) seen.add(p);
  };
  add(join(dir, ".env"));
  for (const e of envFiles) add(resolve(dir, e));
  while (queue.length > 0) {
    const f = queue.shift()!;
    if (seen.has(f)) continue;
    seen.add(f);
    let doc: any;
    try {
      doc = parse(readFileSync(f, "utf8"));
    } catch {
      continue;
    }
    const base = dirname(f);
    for (const svc of Object.values<any>(doc?.services ?? {})) {
      const envFile = svc?.env_file;
      for (const e of Array.isArray(envFile) ? envFile : envFile ? [envFile] : []) {
        const p = typeof e === "string" ? e : e?.path;
        if (typeof p === "string") add(resolve(base, p));
      }
      const ext = svc?.extends?.file;
      if (typeof ext === "string") queue.push(resolve(base, ext));
    }
  }
  return [...seen].sort();
}

function hashFiles(paths: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of paths) out[p] = existsSync(p) ? hash(readFileSync(p)) : "-";
  return out;
}

function sameDeps(stored: Record<string, string>, paths: string[]): boolean {
  const now = hashFiles(paths);
  const a = Object.keys(stored).sort();
  const b = Object.keys(now).sort();
  return a.length === b.length && a.every((k, i) => k === b[i] && stored[k] === now[k]);
}

/** Variables the compose files and .env mention, with their current values in this process. */
function interpolatedVars(paths: string[]): Record<string, string | null> {
  const names = new Set<string>();
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const text = readFileSync(p, "utf8");
    for (const m of text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1]!);
    if (p.endsWith(".env") || p.endsWith("/.env")) {
      for (const m of text.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/gm)) names.add(m[1]!);
    }
  }
  const out: Record<string, string | null> = {};
  for (const n of [...names].sort()) out[n] = process.env[n] ?? null;
  return out;
}

function sameVars(stored: Record<string, string | null>): boolean {
  return Object.entries(stored).every(([k, v]) => (process.env[k] ?? null) === v);
}

function readCache(file: string): CacheEntry | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as CacheEntry;
  } catch {
    return undefined;
  }
}

function hash(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
