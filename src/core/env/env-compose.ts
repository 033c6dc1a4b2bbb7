import type { CiloContext } from "../context/context.ts";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { loadProjectConfig, type ProjectConfig } from "../config/project-config.ts";
import { composeFilesOf } from "../compose/project-files.ts";
import { resolveModel } from "../compose/resolve-model.ts";
import { transformCompose } from "../compose/transform.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { lockTimeoutMs } from "../fs/file-lock.ts";
import type { HomeRef } from "../labels.ts";
import type { EnvRecord } from "../state/schema.ts";
import { ensureExtraSubnets } from "./extra-subnets.ts";
import { rewriteHostPaths } from "../host/remote-paths.ts";
import { renderedComposePath } from "./compose-target.ts";

export interface ResolvedEnvModel {
  config: ProjectConfig;
  /** The resolved model from the compose CLI, before cilo's transform. */
  model: Record<string, unknown>;
  profiles: string[];
  /** True when the model came from the cache (no compose `config` call). */
  cached: boolean;
}

/** The env's compose model as the compose CLI resolves it in its workspace (`config`). */
export async function resolveEnvModel(ctx: CiloContext, rec: EnvRecord, extraProfiles: string[] = []): Promise<ResolvedEnvModel> {
  const { config } = await loadProjectConfig(rec.workspace, ctx.log);
  const files = composeFilesOf(rec.workspace, config);
  const cli = await ctx.compose();
  const profiles = [...new Set([...(config.profiles ?? []), ...extraProfiles])];
  const resolved = await resolveModel({
    cli,
    run: ctx.runCompose,
    env: ctx.env,
    endpoint: () => ctx.endpoint(),
    cacheDir: join(ctx.home, "cache", "compose"),
    lockTimeoutMs: lockTimeoutMs(ctx.env),
    dir: rec.workspace,
    files,
    ...(config.env_files ? { envFiles: config.env_files } : {}),
    ...(profiles.length > 0 ? { profiles } : {}),
    projectName: rec.docker_name,
    ...(rec.source?.path ? { sourceDir: rec.source.path } : {}),
  });
  return { config, model: resolved.model, profiles, cached: resolved.cached };
}

export interface RenderOptions {
  /** Services the project's shared instance provides, and its network. */
  shared?: { services: string[]; network: string };
  /** Networks of other envs this env joins. */
  joinNetworks?: string[];
  /** This home's CA certificate and bundle on the host, for services labelled `cilo.ca`. */
  ca?: { cert: string; bundle: string };
  /** Variables every service of the env gets (`CILO_DB_*` of its per-env databases). */
  environment?: Record<string, string>;
}

export interface RenderedEnv extends ResolvedEnvModel {
  /** The transformed model written to the rendered file. */
  rendered: Record<string, unknown>;
  services: string[];
  path: string;
  /** The text written to `path`. */
  yaml: string;
}

/**
 * Transforms a resolved model for the env (no host ports, no container names, env network and
 * subnet, labels, shared services left out) and writes `<workspace>/.cilo/compose.yml`
 * atomically. Deterministic: same inputs, same bytes.
 */
export function writeEnvCompose(rec: EnvRecord, home: HomeRef, resolved: ResolvedEnvModel, opts: RenderOptions = {}): RenderedEnv {
  // An env on a host: bind mounts name the remote workspace, where cilo sync puts the files.
  const model = rec.remote_workspace ? rewriteHostPaths(resolved.model, rec.workspace, rec.remote_workspace) : resolved.model;
  const out = transformCompose({
    model,
    project: rec.project,
    env: rec.name,
    home,
    dockerName: rec.docker_name,
    subnet: rec.subnet,
    profiles: resolved.profiles,
    ...(opts.shared && opts.shared.services.length > 0 ? { shared: opts.shared } : {}),
    ...(opts.joinNetworks && opts.joinNetworks.length > 0 ? { joinNetworks: opts.joinNetworks } : {}),
    networkSubnets: rec.extra_subnets ?? {},
    ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    ...(opts.environment ? { environment: opts.environment } : {}),
    ...(rec.engine ? { engine: rec.engine } : {}),
  });
  const path = renderedComposePath(rec);
  mkdirSync(join(rec.workspace, ".cilo"), { recursive: true });
  writeFileAtomic(path, out.yaml);
  return { ...resolved, rendered: out.model, services: out.services, path, yaml: out.yaml };
}

/**
 * Resolves and writes the env's compose file in one go, first giving the env its own subnets for
 * networks that fix one in ipam (recorded in state).
 */
export async function renderEnvCompose(
  ctx: CiloContext,
  rec: EnvRecord,
  home: HomeRef,
  extraProfiles: string[] = [],
  opts: RenderOptions = {},
): Promise<RenderedEnv> {
  const resolved = await resolveEnvModel(ctx, rec, extraProfiles);
  return writeEnvCompose(await ensureExtraSubnets(ctx, rec, resolved.model), home, resolved, opts);
}
