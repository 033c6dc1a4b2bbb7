import type { CiloContext } from "../context/context.ts";
import { appendFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { CiloError, ExitCode, usageError } from "../errors.ts";
import { isEngine } from "../engine.ts";
import { composeFailure, type ComposeTarget } from "../compose/compose-cli.ts";
import { transformSharedCompose } from "../compose/transform.ts";
import { sharedConfigNames, type ProjectConfig } from "../config/project-config.ts";
import { spawnDetachedCilo } from "../proc/spawn-cilo.ts";
import { waitForServices } from "../runtime/wait-services.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { failpoint } from "../failpoint.ts";
import { lockTimeoutMs, withFileLock } from "../fs/file-lock.ts";
import { LABEL_PROJECT, LABEL_SERVICE, LABEL_SHARE, LABEL_SHARE_PER_ENV, sharedDockerName, sharedLabels } from "../labels.ts";
import { envContainers, sharedContainers, sharedNetworksAndVolumes, sharedSelectorLabels } from "../runtime/env-resources.ts";
import { foreignSubnets } from "../network/foreign-subnets.ts";
import { allocateSubnet } from "../network/subnet-pool.ts";
import { stateSubnets } from "../network/used-subnets.ts";
import { SUBNET_RACE_ATTEMPTS, subnetTaken } from "../network/subnet-race.ts";
import type { EnvRecord, SharedInstance, State } from "../state/schema.ts";
import { homeRef, readState, withState } from "../state/store.ts";
import { serviceLabelsOf } from "../compose/model-shape.ts";
import type { ContainerState, RuntimeProvider } from "../runtime/provider.ts";

/** How long a shared service with no users keeps running: `CILO_SHARED_GRACE_MS`, default 60 s. */
export function sharedGraceMs(env: NodeJS.ProcessEnv): number {
  const v = Number(env["CILO_SHARED_GRACE_MS"]);
  return Number.isFinite(v) && v >= 0 ? v : 60_000;
}

export function sharedDir(project: string, home: string): string {
  return join(home, "shared", project);
}

/** How to call the compose CLI on a shared instance; `network` (its recorded name) is its compose project too. */
export function sharedTarget(project: string, network: string, home: string): ComposeTarget {
  const dir = sharedDir(project, home);
  return { projectName: network, files: [join(dir, "compose.yml")], cwd: dir };
}

export interface SharingChoice {
  /** `cilo up --share <svc>` */
  share?: string[];
  /** `cilo up --isolate <svc>` */
  isolate?: string[];
}

/**
 * Which services of a project run shared (SPEC §8): those labelled `cilo.share: "true"` (or
 * `cilo.share.per_env`), listed in the config's `shared`, or named with `--share`; `--isolate` gives an env its own copy.
 */
export function sharedServiceNames(model: Record<string, unknown>, config: ProjectConfig, choice: SharingChoice = {}): string[] {
  const services = Object.keys((model["services"] ?? {}) as Record<string, unknown>);
  const listed = sharedConfigNames(config);
  for (const name of [...(choice.share ?? []), ...(choice.isolate ?? []), ...listed]) {
    if (!services.includes(name)) {
      throw usageError(
        `"${name}" is not a service of this project (services: ${services.sort().join(", ")})`,
        "Check --share, --isolate and the config's shared list",
      );
    }
  }
  const isolate = new Set(choice.isolate ?? []);
  return services
    .filter(
      (s) =>
        /^(true|1|yes)$/i.test(serviceLabelsOf(model, s)[LABEL_SHARE] ?? "") ||
        serviceLabelsOf(model, s)[LABEL_SHARE_PER_ENV] !== undefined ||
        listed.includes(s) ||
        (choice.share ?? []).includes(s),
    )
    .filter((s) => !isolate.has(s))
    .sort();
}

/**
 * Makes the project's shared instance run `services` for `env` and records `env` as a user.
 * Serialised per project by a file lock, so ten envs coming up at once start each shared
 * service exactly once; a running one is never recreated (`--no-recreate`). Returns the shared
 * containers, for their addresses on the shared network.
 */
export async function acquireShared(
  ctx: CiloContext,
  env: EnvRecord,
  model: Record<string, unknown>,
  services: string[],
): Promise<{ network: string; containers: ContainerState[] }> {
  const project = env.project;
  const dir = sharedDir(project, ctx.home);
  mkdirSync(dir, { recursive: true });
  const provider = await ctx.provider();
  const engine = isEngine(provider.name) ? provider.name : undefined;
  const current = readState(ctx);
  const foreign = await foreignSubnets(provider, [current.shared?.[project]?.network ?? sharedDockerName(current.home_id, project)]);
  return withFileLock(join(dir, "compose.yml"), lockTimeoutMs(ctx.env), async () => {
    let home = homeRef(current, ctx.home);
    const inst = await withState(ctx, (state) => {
      home = homeRef(state, ctx.home);
      const cur = ensureInstance(state, project, foreign);
      for (const s of services) {
        cur.services[s] ??= { users: [] };
        const rec = cur.services[s];
        if (!rec.users.includes(env.name)) rec.users.push(env.name);
        rec.users.sort();
        delete rec.idle_since;
      }
      return structuredClone(cur);
    });
    try {
      const labels = sharedLabels(home, project);
      const running = await sharedContainers(provider, project, inst.network, home.id);
      const missing = services.filter((s) => !running.some((c) => c.labels[LABEL_SERVICE] === s && c.state === "running"));
      for (let attempt = 1; missing.length > 0; attempt++) {
        const all = Object.keys(inst.services).sort();
        const out = transformSharedCompose({
          model,
          project,
          services: all.filter((s) => s in ((model["services"] ?? {}) as object)),
          network: inst.network,
          subnet: inst.subnet,
          labels,
          composeProject: inst.network,
          ...(engine ? { engine } : {}),
        });
        writeFileAtomic(join(dir, "compose.yml"), out.yaml, 0o644, ctx.env);
        const cli = await ctx.compose();
        failpoint(ctx.env, "shared:before-compose");
        const r = await ctx.runCompose(cli, sharedTarget(project, inst.network, ctx.home), ["up", "-d", "--no-recreate", ...missing]);
        if (r.code === 0) break;
        // Another home or program made a network on the instance's subnet since it was picked
        // (src/core/network/subnet-race.ts): compose made nothing, so the subnet is picked again.
        if (attempt >= SUBNET_RACE_ATTEMPTS || !subnetTaken(`${r.stderr}\n${r.stdout}`))
          throw composeFailure(`Starting the shared services ${missing.join(", ")} of ${project} failed`, r, { during: "up of shared services" });
        inst.subnet = await repickSubnet(ctx, provider, project, inst);
      }
      await waitForServices(provider, { labels: sharedSelectorLabels(project, inst.network, home.id), services, timeoutMs: 120_000 });
      return { network: inst.network, containers: await sharedContainers(provider, project, inst.network, home.id) };
    } catch (e) {
      await releaseUser(ctx, project, env.name, services).catch(() => {});
      throw e;
    }
  });
}

/** A new subnet for a shared instance whose network does not exist yet, recorded under the lock. */
async function repickSubnet(ctx: CiloContext, provider: RuntimeProvider, project: string, inst: SharedInstance): Promise<string> {
  const foreign = await foreignSubnets(provider, [inst.network]);
  return withState(ctx, (state) => {
    const cur = state.shared?.[project];
    if (!cur || cur.network !== inst.network)
      throw new CiloError("E_SHARED_VANISHED", `The shared instance of ${project} was removed while its services were starting`, {
        hint: "Run the command again",
      });
    const others = stateSubnets(state).filter((s) => s !== cur.subnet);
    cur.subnet = allocateSubnet(state.config.subnet_pool, state.config.subnet_size, [...others, ...foreign, cur.subnet]);
    return cur.subnet;
  });
}

function ensureInstance(state: State, project: string, foreign: string[]): SharedInstance {
  state.shared ??= {};
  let inst = state.shared[project];
  if (!inst) {
    const subnet = allocateSubnet(state.config.subnet_pool, state.config.subnet_size, [...stateSubnets(state), ...foreign]);
    inst = { project, network: sharedDockerName(state.home_id, project), subnet, services: {} };
    state.shared[project] = inst;
  }
  return inst;
}

/**
 * `env` stops using the project's shared services (down, destroy). A service left without users
 * is stopped after the grace period by a small detached cilo process (`cilo __shared-gc`).
 */
export async function releaseShared(ctx: CiloContext, project: string, env: string, only?: string[]): Promise<void> {
  const idle = await releaseUser(ctx, project, env, only);
  if (idle) scheduleCollection(ctx, project);
}

async function releaseUser(ctx: CiloContext, project: string, env: string, only?: string[]): Promise<boolean> {
  return withState(ctx, (state) => {
    const inst = state.shared?.[project];
    if (!inst) return false;
    let idle = false;
    const now = new Date(ctx.clock.now()).toISOString();
    for (const [name, svc] of Object.entries(inst.services)) {
      if (only && !only.includes(name)) continue;
      if (!svc.users.includes(env)) continue;
      svc.users = svc.users.filter((u) => u !== env);
      if (svc.users.length === 0) {
        svc.idle_since = now;
        idle = true;
      }
    }
    return idle;
  });
}

function scheduleCollection(ctx: CiloContext, project: string): void {
  spawnDetachedCilo(ctx, ["__shared-gc", project, String(sharedGraceMs(ctx.env))]);
}

/** `cilo __shared-gc <project> <delay ms>`: waits, then stops the project's idle shared services. */
export async function runSharedCollector(ctx: CiloContext, argv: string[]): Promise<number> {
  const project = argv[0];
  const delay = Number(argv[1] ?? sharedGraceMs(ctx.env));
  if (!project) return ExitCode.usage;
  await ctx.clock.sleep(delay + 100);
  try {
    const stopped = await collectIdleShared(ctx, project);
    collectorLog(ctx, project, stopped.length > 0 ? `stopped ${stopped.join(", ")}` : "nothing to stop");
    return 0;
  } catch (e) {
    // Detached, so nobody sees stderr: leave the reason where `cilo doctor` and users can find it.
    collectorLog(ctx, project, `failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

function collectorLog(ctx: CiloContext, project: string, line: string): void {
  try {
    appendFileSync(join(sharedDir(project, ctx.home), "collector.log"), `${new Date(ctx.clock.now()).toISOString()} ${line}\n`);
  } catch {
    // the folder went with the instance
  }
}

/**
 * Stops the shared services of `project` that have had no user for the grace period; when none
 * is left, the whole instance goes (containers, network, volumes) and its subnet is released.
 * Returns the services stopped.
 */
export async function collectIdleShared(ctx: CiloContext, project: string, now = ctx.clock.now()): Promise<string[]> {
  const dir = sharedDir(project, ctx.home);
  if (!readState(ctx).shared?.[project]) return [];
  return withFileLock(join(dir, "compose.yml"), lockTimeoutMs(ctx.env), async () => {
    const inst = readState(ctx).shared?.[project];
    if (!inst) return [];
    const grace = sharedGraceMs(ctx.env);
    const expired = Object.entries(inst.services)
      .filter(([, s]) => s.users.length === 0 && s.idle_since !== undefined && Date.parse(s.idle_since) + grace <= now)
      .map(([name]) => name);
    if (expired.length === 0) return [];
    await stopShared(ctx, project, inst.network, expired, Object.keys(inst.services).length === expired.length);
    return expired;
  });
}

async function stopShared(ctx: CiloContext, project: string, network: string, services: string[], everything: boolean): Promise<void> {
  const cli = await ctx.compose();
  const target = sharedTarget(project, network, ctx.home);
  const homeId = readState(ctx).home_id;
  if (everything) await detachStragglers(ctx, project, network, homeId);
  if (existsSync(target.files[0]!)) {
    const args = everything ? ["down", "-v", "--remove-orphans", "--timeout", "5"] : ["rm", "-s", "-f", "-v", ...services];
    const r = await ctx.runCompose(cli, target, args);
    if (r.code !== 0)
      throw composeFailure(`Stopping the shared services ${services.join(", ")} of ${project} failed`, r, { during: "down of shared services" });
  }
  if (everything) {
    // Anything compose did not know of (e.g. its file was lost) goes by label.
    const provider = await ctx.provider();
    for (const c of await sharedContainers(provider, project, network, homeId)) await provider.removeContainer(c.id);
    const { networks, volumes } = await sharedNetworksAndVolumes(provider, project, network, homeId);
    for (const n of networks) await provider.removeNetwork(n.id);
    for (const v of volumes) await provider.removeVolume(v.name);
  }
  await withState(ctx, (state) => {
    const inst = state.shared?.[project];
    if (!inst) return;
    for (const s of services) delete inst.services[s];
    if (everything || Object.keys(inst.services).length === 0) delete state.shared![project];
    if (state.shared && Object.keys(state.shared).length === 0) delete state.shared;
  });
}

/**
 * Takes every container that is not part of the shared instance off its network, so the network
 * can go: with no users left, such a container is a leftover (e.g. of an env whose record is gone).
 */
async function detachStragglers(ctx: CiloContext, project: string, name: string, homeId: string): Promise<void> {
  const provider = await ctx.provider();
  const network = (await provider.listNetworks()).find((n) => n.name === name);
  if (!network) return;
  const own = new Set((await sharedContainers(provider, project, name, homeId)).map((c) => c.id));
  for (const c of await provider.listContainers({ [LABEL_PROJECT]: project })) {
    if (!own.has(c.id) && c.ips[network.name] !== undefined) await provider.disconnectNetwork(network.id, c.id);
  }
}

/** The users of a project's shared service, for lifecycle protection. */
export function sharedUsers(state: State, project: string, service: string): string[] {
  return state.shared?.[project]?.services[service]?.users ?? [];
}

/**
 * `cilo shared down <service>`: stops a shared service. Refused while envs use it, naming them,
 * unless `force`, which first detaches them: their containers leave the shared network and their
 * records no longer list the service.
 */
export async function downShared(ctx: CiloContext, project: string, service: string, opts: { force?: boolean } = {}): Promise<string[]> {
  const state = readState(ctx);
  const inst = state.shared?.[project];
  if (!inst?.services[service]) {
    throw usageError(`Project "${project}" has no shared service "${service}"`, "See them with: cilo shared list");
  }
  const users = sharedUsers(state, project, service);
  if (users.length > 0 && !opts.force) {
    throw new CiloError("E_SHARED_IN_USE", `The shared service ${project}/${service} is in use by ${users.length} env(s): ${users.join(", ")}`, {
      hint: "Destroy or down those envs first, or pass --force to detach them",
    });
  }
  const provider = await ctx.provider();
  return withFileLock(join(sharedDir(project, ctx.home), "compose.yml"), lockTimeoutMs(ctx.env), async () => {
    const everything = Object.keys(inst.services).length === 1;
    if (users.length > 0) {
      const nets = await provider.listNetworks();
      const net = nets.find((n) => n.name === inst.network);
      for (const user of users) {
        const userRec = state.envs[`${project}/${user}`];
        const containers = userRec ? await envContainers(provider, userRec, state.home_id) : [];
        if (everything && net) for (const c of containers) await provider.disconnectNetwork(net.id, c.id);
      }
      await withState(ctx, (st) => {
        for (const user of users) {
          const rec = st.envs[`${project}/${user}`];
          if (!rec) continue;
          rec.shared_services = (rec.shared_services ?? []).filter((s) => s !== service);
          rec.services = rec.services.filter((s) => !(s.shared && s.name === service));
        }
        const cur = st.shared?.[project]?.services[service];
        if (cur) cur.users = [];
      });
    }
    await stopShared(ctx, project, inst.network, [service], everything);
    return users;
  });
}
