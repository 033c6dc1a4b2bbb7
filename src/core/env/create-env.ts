import type { CiloContext } from "../context/context.ts";
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { CiloError, usageError } from "../errors.ts";
import { loadProjectConfig, projectName } from "../config/project-config.ts";
import { composeFilesOf } from "../compose/project-files.ts";
import { failpoint } from "../failpoint.ts";
import { normaliseName, parseEnvRef, qualifiedEnv } from "../names.ts";
import { dnsSuffix } from "../dns-names.ts";
import { foreignSubnets } from "../network/foreign-subnets.ts";
import { allocateSubnet } from "../network/subnet-pool.ts";
import { stateSubnetsIn } from "../network/used-subnets.ts";
import { envsDir, workspacePath } from "../paths.ts";
import { envKey, type EnvRecord, type EnvSource } from "../state/schema.ts";
import { homeRef, readState, withState } from "../state/store.ts";
import { envDockerName, type HomeRef } from "../labels.ts";
import { createWorkspace, removeWorkspace, renderEnvFiles, type CloneMode, type CopyProgress, type WorkspaceInfo } from "../workspace/index.ts";
import { resolveSharedNetworks } from "../shared/shared-networks.ts";
import { renderEnvCompose } from "./env-compose.ts";
import { checkDnsNames } from "../dns/dns.ts";
import { ensureReaper, ensureTtlReaper } from "./reaper.ts";
import { baseUrl } from "./urls.ts";
import type { CopyMethod } from "../snapshot/volume-copy.ts";
import { readSnapshot, type CopyReport } from "../snapshot/snapshot-store.ts";
import { findEnv } from "../state/find-env.ts";
import { checkHostName, LOCAL_HOST } from "../host-address.ts";
import { findHost } from "../host/hosts.ts";
import { removeRemoteWorkspace, remoteHost, remoteWorkspaceFor, syncWorkspace } from "../host/remote-workspace.ts";
import { reachEnv } from "./env-context.ts";

export interface CreateEnvOptions {
  /** The env name (a branch name such as `feat/login` becomes `feat-login`), or `<project>:<env>`. */
  env: string;
  /** Project folder (default: current folder). */
  from?: string;
  /** Clone this git URL instead of copying a folder. */
  git?: string;
  ref?: string;
  project?: string;
  mode?: CloneMode;
  include?: string[];
  /** Envs whose network this env joins on every up (`--shared-network`). */
  sharedNetworks?: string[];
  /** Destroy the env when this process dies (see the reaper). */
  ownerPid?: number;
  /** Who holds that lease (recorded as `lease`): `mcp` for an MCP session. */
  lease?: "mcp";
  /** Destroy the env this long after its creation, whatever happens (`--ttl`; the TTL reaper). */
  ttlMs?: number;
  /** A snapshot whose volumes the env's start as copies of (default: `seed:` of the project config). */
  seed?: string;
  /** Or another env whose volumes are copied (snapshotted and seeded in one step). */
  seedFrom?: string;
  /** How the seed is copied (default auto). */
  seedMethod?: CopyMethod;
  onProgress?: (message: string) => void;
  /** How far the workspace copy has got (copy, reflink), after each file; the caller throttles any display. */
  onCopyProgress?: (progress: CopyProgress) => void;
  /**
   * The host (`cilo host add`) the env runs on (default: `host:` of the project config; `local`:
   * this machine's engine). Its workspace is pushed to `<remote root>/<project>/<env>` there.
   */
  on?: string;
  /** Aborting stops the clone or copy and the steps after it; the env is rolled back (nothing is left) and the abort reason is thrown. */
  signal?: AbortSignal;
}

export interface CreatedEnv {
  env: EnvRecord;
  notice?: string;
  /** The volumes seeded, with the copy path each took and its speed. */
  seeded?: { snapshot?: string; from_env?: string; volumes: CopyReport[] };
}

/**
 * Creates an env: records it and allocates its subnet under the state lock, makes its workspace,
 * renders env files, and validates the compose project through the compose CLI. Either all of it
 * happens or nothing is left behind (a failure rolls back; a kill leaves an `operation` marker).
 */
export async function createEnv(ctx: CiloContext, opts: CreateEnvOptions): Promise<CreatedEnv> {
  const ref = parseEnvRef(opts.env);
  const name = ref.env;
  const explicitProject = opts.project === undefined ? undefined : normaliseName(opts.project, "project");
  if (ref.project && explicitProject && ref.project !== explicitProject) {
    throw usageError(`The env "${opts.env}" names project "${ref.project}" but --project says "${explicitProject}"`, "Give the project once");
  }
  const projectOpt = ref.project ?? explicitProject;
  const progress = opts.onProgress ?? (() => {});
  let staging: string | undefined;
  let dir: string;
  let gitInfo: WorkspaceInfo | undefined;
  if (opts.git) {
    staging = join(envsDir(ctx.home), ".staging", `${name}-${randomBytes(4).toString("hex")}`);
    mkdirSync(dirname(staging), { recursive: true });
    progress(`Cloning ${opts.git}`);
    gitInfo = await createWorkspace({
      dest: staging,
      git: { url: opts.git, ...(opts.ref ? { ref: opts.ref } : {}) },
      env: name,
      processEnv: ctx.env,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    dir = staging;
  } else {
    dir = resolve(opts.from ?? ctx.cwd);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw usageError(`The project folder ${dir} does not exist`, "Pass an existing folder with --from");
    }
  }
  let rec: EnvRecord | undefined;
  let home: HomeRef | undefined;
  let machineSuffix = "";
  let workspaceMade: WorkspaceInfo | undefined;
  /** The env's engine: this machine's, or its host's (`--on`). */
  let hctx = ctx;
  let pushed = false;
  try {
    const { config } = await loadProjectConfig(dir, ctx.log);
    const project = opts.git && !projectOpt && !config.project ? projectFromUrl(opts.git) : projectName(dir, config, projectOpt);
    composeFilesOf(dir, config); // a missing compose file is refused before anything is recorded
    if (opts.seed && opts.seedFrom) throw usageError("Use either --seed or --seed-from, not both");
    const seedName = opts.seedFrom ? undefined : (opts.seed ?? config.seed);
    if (seedName) readSnapshot(ctx.home, seedName); // an unknown snapshot too
    if (opts.seedFrom) findEnv(readState(ctx), opts.seedFrom, project);
    const onHost = (opts.on ?? config.host) === LOCAL_HOST ? undefined : (opts.on ?? config.host);
    let remoteWorkspace: string | undefined;
    if (onHost !== undefined) {
      // Before anything is recorded: an unknown host is exit 2, one that does not answer exit 3.
      const host = remoteHost(ctx, readState(ctx), checkHostName(onHost));
      hctx = await reachEnv(ctx, { host: onHost });
      remoteWorkspace = await remoteWorkspaceFor(hctx, host, project, name);
    }
    const foreign = await foreignSubnetsIfReachable(hctx);
    rec = await withState(ctx, (state) => {
      home = homeRef(state, ctx.home);
      machineSuffix = state.config.dns_suffix;
      const key = envKey(project, name);
      if (state.envs[key]) {
        throw usageError(`The env "${key}" already exists`, `Use it as it is, or run cilo destroy ${qualifiedEnv(project, name)} first`);
      }
      if (onHost !== undefined) findHost(state, onHost);
      const taken = [...stateSubnetsIn(state, state.config.subnet_pool, { host: onHost ?? null }), ...foreign];
      const subnet = allocateSubnet(state.config.subnet_pool, state.config.subnet_size, taken);
      const now = new Date(ctx.clock.now()).toISOString();
      const r: EnvRecord = {
        project,
        name,
        docker_name: envDockerName(state.home_id, project, name),
        status: "creating",
        subnet,
        workspace: workspacePath(project, name, ctx.home),
        created_at: now,
        updated_at: now,
        services: [],
        ...(onHost !== undefined ? { host: onHost, remote_workspace: remoteWorkspace! } : {}),
        ...(config.dns_suffix !== undefined ? { dns_suffix: dnsSuffix(config.dns_suffix) } : {}),
        ...(opts.ownerPid ? { owner_pid: opts.ownerPid, ...(opts.lease ? { lease: opts.lease } : {}) } : {}),
        ...(opts.ttlMs !== undefined ? { expires_at: new Date(ctx.clock.now() + opts.ttlMs).toISOString() } : {}),
        operation: { kind: "create", pid: process.pid, started_at: now },
      };
      if (opts.sharedNetworks?.length) r.shared_networks = [...new Set(resolveSharedNetworks(state, r, opts.sharedNetworks))].sort();
      state.envs[key] = r;
      return r;
    });
    if (rec.owner_pid !== undefined) await ensureReaper(ctx, rec.owner_pid);
    if (rec.expires_at !== undefined) await ensureTtlReaper(ctx);
    failpoint(ctx.env, "create:recorded");
    if (existsSync(rec.workspace)) {
      throw usageError(`The workspace folder ${rec.workspace} already exists but belongs to no env`, `Move it away or run cilo doctor --fix`);
    }
    mkdirSync(dirname(rec.workspace), { recursive: true });
    if (staging && gitInfo) {
      renameSync(staging, rec.workspace);
      staging = undefined;
      workspaceMade = { ...gitInfo, path: rec.workspace };
    } else {
      const mode = opts.mode ?? config.clone?.mode ?? "copy";
      progress(`Making the workspace (${mode})`);
      const include = [...(config.clone?.include ?? []), ...(opts.include ?? [])];
      const exclude = config.clone?.exclude ?? [];
      workspaceMade = await createWorkspace({
        dest: rec.workspace,
        source: dir,
        mode,
        env: name,
        processEnv: ctx.env,
        ...(include.length ? { include } : {}),
        ...(exclude.length ? { exclude } : {}),
        ...(config.clone?.respect_gitignore ? { respectGitignore: true } : {}),
        ...(opts.onCopyProgress ? { onCopyProgress: opts.onCopyProgress } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    }
    failpoint(ctx.env, "create:workspace");
    const suffix = rec.dns_suffix ?? machineSuffix; // as dnsSuffixOf, from the state just written
    if (config.env?.render?.length) {
      await renderEnvFiles(rec.workspace, config.env.render, {
        CILO_ENV: name,
        CILO_PROJECT: project,
        CILO_BASE_URL: baseUrl(project, name, suffix),
        CILO_DNS_SUFFIX: suffix,
        CILO_WORKSPACE: rec.workspace,
      });
    }
    opts.signal?.throwIfAborted();
    if (rec.host) {
      progress(`Pushing the workspace to host ${rec.host} (${rec.remote_workspace})`);
      await syncWorkspace(ctx, readState(ctx), rec, opts.signal ? { signal: opts.signal } : {});
      pushed = true;
    }
    progress("Validating the compose project");
    const source = sourceOf(workspaceMade, opts, dir);
    // With its source, so that an invalid compose file is named where the user wrote it.
    const rendered = await renderEnvCompose(hctx, { ...rec, source }, home!);
    const { serviceRecordsFromModel } = await import("./services.ts");
    const services = serviceRecordsFromModel(rendered.rendered, config);
    await checkDnsNames({ ...rec, services }, readState(ctx));
    const seed = seedName;
    let seeded: CreatedEnv["seeded"];
    if (seed || opts.seedFrom) {
      const { seedEnvVolumes } = await import("../snapshot/snapshot-env.ts");
      const volumes = await seedEnvVolumes(hctx, rec, home!, rendered.rendered, {
        ...(seed ? { snapshot: seed } : { fromEnv: opts.seedFrom! }),
        ...(opts.seedMethod ? { method: opts.seedMethod } : {}),
        onProgress: progress,
      });
      seeded = { ...(seed ? { snapshot: seed } : { from_env: opts.seedFrom! }), volumes };
      failpoint(ctx.env, "create:seeded");
    }
    opts.signal?.throwIfAborted();
    const created = await withState(ctx, (state) => {
      const r = state.envs[envKey(project, name)];
      if (!r) throw new CiloError("E_ENV_VANISHED", `The env ${project}/${name} was removed while it was being created`);
      r.status = "created";
      r.services = services;
      r.source = source;
      r.updated_at = new Date(ctx.clock.now()).toISOString();
      delete r.operation;
      return { ...r };
    });
    return { env: created, ...(workspaceMade.notice ? { notice: workspaceMade.notice } : {}), ...(seeded ? { seeded } : {}) };
  } catch (e) {
    if (pushed && rec) await removeRemoteWorkspace(ctx, readState(ctx), rec).catch(() => {});
    await rollback(ctx, rec, workspaceMade, staging);
    throw e;
  }
}

function sourceOf(ws: WorkspaceInfo, opts: CreateEnvOptions, dir: string): EnvSource {
  return {
    kind: ws.kind,
    ...(opts.git ? { url: opts.git } : { path: dir }),
    ...(ws.ref ? { ref: ws.ref } : opts.ref ? { ref: opts.ref } : {}),
    ...(ws.branch ? { branch: ws.branch } : {}),
  };
}

async function rollback(ctx: CiloContext, rec: EnvRecord | undefined, ws: WorkspaceInfo | undefined, staging: string | undefined): Promise<void> {
  if (staging) rmSync(staging, { recursive: true, force: true });
  if (ws) {
    try {
      await removeWorkspace(
        ctx.env,
        { path: ws.path, kind: ws.kind, ...(ws.source ? { source: ws.source } : {}), ...(ws.branch ? { branch: ws.branch } : {}) },
        { force: true },
      );
    } catch {
      // leave it for doctor rather than hide the original error
    }
  }
  if (rec) {
    const key = envKey(rec.project, rec.name);
    const mine = rec.operation?.pid;
    await withState(ctx, (state) => {
      const r = state.envs[key];
      if (r && r.status === "creating" && r.operation?.pid === mine) delete state.envs[key];
    }).catch(() => {});
  }
}

/** Docker networks and host routes, when the engine answers; otherwise only routes (checked again at up). */
async function foreignSubnetsIfReachable(ctx: CiloContext): Promise<string[]> {
  try {
    const provider = await ctx.provider();
    return await foreignSubnets(provider);
  } catch {
    const { hostRoutes } = await import("../network/foreign-subnets.ts");
    return hostRoutes();
  }
}

function projectFromUrl(url: string): string {
  const base = basename(url.replace(/[/]+$/, "")).replace(/\.git$/, "");
  return normaliseName(base || "project", "project");
}
