import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { CiloError, ExitCode } from "../errors.ts";
import { withFileLock } from "../fs/file-lock.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { importYaml } from "../vendor.ts";
import type { DockerEndpoint } from "../docker-endpoint.ts";
import { composeEnv, composeFailure, type ComposeCli, type ComposeRunner } from "./compose-cli.ts";
import type { RunResult } from "../proc/run.ts";

export interface ResolveOptions {
  cli: ComposeCli;
  /** How compose is run (`CiloContext.runCompose`). */
  run: ComposeRunner;
  /** The environment compose interpolates from (before it is bound to `endpoint`). */
  env: NodeJS.ProcessEnv;
  endpoint: () => DockerEndpoint;
  /** How long to wait for another process resolving the same model. */
  lockTimeoutMs: number;
  /** Project folder the compose files are relative to (the env's workspace). */
  dir: string;
  files: string[];
  envFiles?: string[];
  profiles?: string[];
  projectName: string;
  /** Folder of the shared model cache (`$CILO_HOME/cache/compose`); false disables it. */
  cacheDir: string | false;
  /** The user's project folder `dir` was made from: an invalid file is named there. */
  sourceDir?: string;
}

export interface ResolvedModel {
  model: Record<string, unknown>;
  yaml: string;
  cached: boolean;
}

const DIR_TOKEN = "@@CILO_PROJECT_DIR@@";
const NAME_TOKEN = "@@CILO_COMPOSE_PROJECT@@";

/**
 * The resolved compose model from the compose CLI's `config` (extends, profiles, several files,
 * `.env` interpolation and `env_file` applied). One `config` call costs about a second with v1,
 * so answers are cached, shared by every env: the key is everything the answer depends on — CLI
 * and version, flags, the content of every file compose reads (by path relative to the project)
 * and the values of the variables the files interpolate — and the cached text holds placeholders
 * for the project folder and the compose project name, filled in per env. Concurrent callers with
 * the same key wait for the first one instead of all asking compose. Invalid compose input is a
 * usage error (exit 2).
 */
export async function resolveModel(opts: ResolveOptions): Promise<ResolvedModel> {
  const { parse } = await importYaml();
  const envFile = combinedEnvFile(opts);
  const deps = dependencies(opts.dir, opts.files, opts.envFiles ?? [], parse);
  const cacheDir = opts.cacheDir === false ? undefined : opts.cacheDir;
  const fill = (text: string) => text.split(DIR_TOKEN).join(opts.dir).split(NAME_TOKEN).join(opts.projectName);
  const compute = async (): Promise<string> => {
    const r = await opts.run(
      opts.cli,
      {
        projectName: opts.projectName,
        files: opts.files,
        cwd: opts.dir,
        ...(envFile ? { envFile } : {}),
        ...(opts.profiles ? { profiles: opts.profiles } : {}),
      },
      ["config"],
    );
    if (r.code !== 0) throw await invalidProject(r, opts);
    return r.stdout;
  };
  let yaml: string;
  let cached = false;
  if (cacheDir) {
    const key = cacheKey(opts, deps);
    const file = join(cacheDir, `${key}.yml`);
    const hit = readIfExists(file);
    if (hit !== undefined) {
      yaml = fill(hit);
      cached = true;
    } else {
      mkdirSync(cacheDir, { recursive: true });
      yaml = await withFileLock(file, opts.lockTimeoutMs, async () => {
        const again = readIfExists(file);
        if (again !== undefined) {
          cached = true;
          return fill(again);
        }
        const text = await compute();
        try {
          writeFileAtomic(file, text.split(opts.dir).join(DIR_TOKEN).split(opts.projectName).join(NAME_TOKEN), 0o644, opts.env);
        } catch {
          // the cache only saves time
        }
        return text;
      });
    }
  } else {
    yaml = await compute();
  }
  let model: unknown;
  try {
    model = parse(yaml);
  } catch {
    model = undefined;
  }
  if (typeof model !== "object" || model === null) {
    throw new CiloError("E_COMPOSE_INVALID", `The compose CLI printed no model for ${opts.dir}`, { exitCode: ExitCode.usage });
  }
  return { model: model as Record<string, unknown>, yaml, cached };
}

function cacheKey(opts: ResolveOptions, deps: string[]): string {
  const rel = (p: string) => {
    const r = relative(opts.dir, p);
    return r.startsWith("..") ? p : r;
  };
  const files = deps.map((p) => [rel(p), existsSync(p) ? hash(readFileSync(p)) : "-"]);
  return hash(
    JSON.stringify({
      cli: [opts.cli.command, opts.cli.version],
      files: opts.files,
      envFiles: opts.envFiles ?? [],
      profiles: opts.profiles ?? [],
      deps: files,
      vars: interpolatedVars(deps, opts.env, opts.endpoint()),
    }),
  );
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
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

/**
 * Variables the compose files and .env mention, with the values compose gets (its environment is
 * bound to the Docker endpoint: `${DOCKER_HOST}` there is the endpoint, not this process's value).
 */
function interpolatedVars(paths: string[], base: NodeJS.ProcessEnv, endpoint: DockerEndpoint): Record<string, string | null> {
  const env = composeEnv(base, endpoint);
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
  for (const n of [...names].sort()) out[n] = env[n] ?? null;
  return out;
}

function hash(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A failed `config`: compose's whole complaint, naming the user's files and lines (exit 2), unless the engine went away. */
async function invalidProject(r: RunResult, opts: ResolveOptions): Promise<CiloError> {
  const where = opts.sourceDir ?? opts.dir;
  const failure = composeFailure(`The compose project in ${where} is invalid`, r, { exitCode: ExitCode.usage });
  if (failure.code !== "E_COMPOSE") return failure;
  const { invalidComposeMessage } = await import("./compose-errors.ts");
  const issues = invalidComposeMessage(r.stderr || r.stdout, { dir: opts.dir, files: opts.files, ...(opts.sourceDir ? { sourceDir: opts.sourceDir } : {}) });
  return new CiloError("E_COMPOSE_INVALID", `The compose project in ${where} is invalid: ${issues || `compose config exited with ${r.code}`}`, {
    exitCode: ExitCode.usage,
  });
}
