import { CiloError, messageOf } from "../errors.ts";
import { composeFailure, engineLost, type ComposeCli } from "../compose/compose-cli.ts";
import { pullFailure } from "../compose/compose-errors.ts";
import { isRecord } from "../is-record.ts";
import { failpoint } from "../failpoint.ts";
import { isProcessAlive } from "../proc/processes.ts";
import type { HomeRef } from "../labels.ts";
import { envContainers, envSelectorLabels } from "../runtime/env-resources.ts";
import { overlaps, parseCidr } from "../cidr.ts";
import { foreignSubnets } from "../network/foreign-subnets.ts";
import { allocateSubnet } from "../network/subnet-pool.ts";
import { stateSubnets } from "../network/used-subnets.ts";
import type { CiloContext } from "../context/context.ts";
import { envKey, type EnvDatabase, type EnvRecord } from "../state/schema.ts";
import { homeRef, readState, withState } from "../state/store.ts";
import { acquireShared, releaseShared, sharedServiceNames } from "../shared/shared-instance.ts";
import { joinedNetworks, resolveSharedNetworks } from "../shared/shared-networks.ts";
import { databaseEnvironment, ensureEnvDatabases, perEnvDatabaseSpecs } from "../shared/per-env-db.ts";
import type { ContainerState, NetworkState, RuntimeProvider } from "../runtime/provider.ts";
import type { RunResult } from "../proc/run.ts";
import { containerCa } from "../gateway/ca-env.ts";
import { envComposeTarget } from "./compose-target.ts";
import { resolveEnvModel, writeEnvCompose } from "./env-compose.ts";
import { ensureExtraSubnets } from "./extra-subnets.ts";
import { assertSameEngine } from "./engine-guard.ts";
import { currentProject } from "../config/current-project.ts";
import { findEnv } from "../state/find-env.ts";
import { qualifiedEnv } from "../names.ts";
import { checkDnsNames, preloadDns, refreshDns } from "../dns/dns.ts";
import { SUBNET_RACE_ATTEMPTS, subnetTaken } from "../network/subnet-race.ts";
import { mergeRuntime, serviceRecordsFromModel } from "./services.ts";
import { waitForServices, type PendingService } from "../runtime/wait-services.ts";
import { reachedHost, syncEnvForwards, syncEnvGateways } from "../forward/remote-names.ts";
import { usageError } from "../errors.ts";
import { syncWorkspace } from "../host/remote-workspace.ts";
import { envContext, reachEnv } from "./env-context.ts";
import { timing } from "../timeline.ts";
import { rememberApiVersion } from "./engine-api-cache.ts";
import { knownApiVersion, startComposeOn, startEarlyCompose, upComposeArgs, type EarlyCompose } from "./up-early.ts";

export interface UpEnvOptions {
  ref: string;
  project?: string;
  build?: boolean;
  recreate?: boolean;
  profiles?: string[];
  wait?: boolean;
  timeoutMs?: number;
  /** Services to run from the project's shared instance (besides `cilo.share` labels and config). */
  share?: string[];
  /** Services this env runs privately even if marked shared. */
  isolate?: string[];
  /** Envs (`<env>` or `<project>:<env>`) whose network this env joins; remembered for later ups. */
  sharedNetworks?: string[];
  /** Output of the compose CLI, as it comes. */
  onOutput?: (chunk: string) => void;
  /** With `wait`: the services not ready yet and why, each time that changes. */
  onWaiting?: (pending: PendingService[]) => void;
  signal?: AbortSignal;
  /**
   * `compose up` started already for this up (`startUpCompose`, by a front end that starts it
   * before this module loads). upEnv owns it from here: it feeds it only if it was started for
   * the env, arguments and engine API version this up ends up with, and cancels it otherwise.
   */
  early?: EarlyCompose;
}

/**
 * Starts an env: renders its compose file, makes sure its subnet is free, runs `compose up -d`,
 * optionally waits for health, then records services with the IPs Docker gave them and updates DNS.
 * A failure of compose (or later) leaves the env recorded as `failed` (destroy still cleans it);
 * a failure before compose ran leaves its record and DNS as they were.
 */
export async function upEnv(local: CiloContext, opts: UpEnvOptions): Promise<EnvRecord> {
  timing(local.env, "up: start");
  let early: EarlyCompose | undefined;
  try {
    return await startEnv(local, opts, (e) => (early = e));
  } finally {
    // Each a no-op once fed: the one given and not taken is killed unfed like one started here.
    opts.early?.cancel();
    early?.cancel();
  }
}

/** Whether `early` runs `compose up` with `args` for the compose project and workspace of `rec`. */
function sameCompose(early: EarlyCompose, rec: EnvRecord, args: readonly string[]): boolean {
  return early.rec.docker_name === rec.docker_name && early.rec.workspace === rec.workspace && early.args.join("\0") === args.join("\0");
}

async function startEnv(local: CiloContext, opts: UpEnvOptions, onEarly: (e: EarlyCompose) => void): Promise<EnvRecord> {
  const project = await currentProject(opts.project, local.cwd);
  // An env on a host runs on its engine (E_HOST_UNREACHABLE, exit 3, before anything is recorded);
  // DNS and the gateway stay this machine's (`local`).
  const target = findEnv(readState(local), opts.ref, project);
  const args = upComposeArgs(opts);
  // compose v1 loads itself (0.3–0.6 s of Python) before it reads its file: started early, it does
  // that while cilo does its own work below. It needs COMPOSE_API_VERSION (without it, it asks the
  // engine's /version, 0.5–1 s on Podman, a few ssh sessions on a host): the user's, else the one
  // this engine answered last time; the ping below checks that and starts it again when the engine
  // now says otherwise. Until it is fed it touches nothing (startEarlyCompose), so on a host it
  // starts even before the host is asked: a host that does not answer kills it unfed and is the
  // one-line exit 3 of reachEnv, as before.
  // A front end may have started it before this module loaded (opts.early): it is checked below
  // like one started here.
  const hctx = envContext(local, target);
  let early = opts.early && sameCompose(opts.early, target, args) ? opts.early : undefined;
  if (!early) opts.early?.cancel();
  if (!early && target.host) {
    // A compose CLI that does not answer is reported below, after the host's own check.
    early = await startComposeOn(hctx, target, opts);
    if (early) onEarly(early);
  }
  const ctx = await reachEnv(local, target, hctx);
  timing(local.env, early ? "up: state read, compose started, engine reached" : "up: state read, engine reached");
  // The subnet check's list of networks, asked now: on a host it is an ssh session, which then
  // runs while the push below walks the workspace and the model resolves. A network made since
  // is caught as before: compose fails on its subnet and the subnet is picked again.
  let networks = target.host ? (await ctx.provider()).listNetworks() : undefined;
  networks?.catch(() => {}); // awaited by the subnet check
  // The remote workspace gets the local one's files before compose mounts them (docs/remote.md):
  // the push runs while the compose model is resolved, which does not need it.
  const pushing = target.host
    ? syncWorkspace(ctx, readState(ctx), target, { incremental: true, manifestLater: true, ...(opts.signal ? { signal: opts.signal } : {}) })
    : undefined;
  pushing?.catch(() => {}); // awaited before compose runs; a pre-flight failure first is the one reported
  // Pre-flight, before anything is recorded: a compose CLI that does not answer, an unreadable
  // config or an invalid compose file leave the env (and so DNS) exactly as it was.
  const cli = await ctx.compose();
  if (early && early.cli.command.join(" ") !== cli.command.join(" ")) {
    early.cancel();
    early = undefined;
  }
  const earlyOk = cli.flavor === "v1";
  const host = ctx.endpoint().host;
  const userApi = ctx.env["COMPOSE_API_VERSION"];
  const api = early?.apiVersion ?? knownApiVersion(ctx, cli);
  if (!early && api !== undefined) {
    early = startEarlyCompose(ctx, cli, target, args, opts, api);
    onEarly(early);
  }
  timing(local.env, early ? "up: compose started (API version known), waiting for its file on stdin" : "up: compose cli known");
  const provider = await ctx.provider();
  networks ??= provider.listNetworks();
  networks.catch(() => {});
  // reachEnv asked the engine already (a host's ping is an ssh session): its answer is reused.
  const pinged = provider.lastPing?.() ?? (await provider.ping());
  const engine = pinged.engine;
  timing(local.env, "up: engine pinged");
  if (earlyOk && userApi === undefined && pinged.apiVersion !== api) {
    early?.cancel();
    rememberApiVersion(ctx, host, pinged.apiVersion);
    // runCompose passes this ping's API version on.
    early = startEarlyCompose(ctx, cli, target, args, opts);
    onEarly(early);
    timing(local.env, "up: compose started, waiting for its file on stdin");
  }
  const resolved = await resolveEnvModel(ctx, assertNotBusy(findEnv(readState(ctx), opts.ref, project)), opts.profiles ?? []);
  timing(local.env, "up: model resolved");
  let before: EnvRecord | undefined;
  let home: HomeRef | undefined;
  let rec = await withState(ctx, (state) => {
    home = homeRef(state, ctx.home);
    const r = assertNotBusy(findEnv(state, opts.ref, project));
    before = structuredClone(r);
    assertSameEngine(r, engine);
    if (engine) r.engine = engine;
    if (opts.sharedNetworks?.length) {
      r.shared_networks = [...new Set([...(r.shared_networks ?? []), ...resolveSharedNetworks(state, r, opts.sharedNetworks)])].sort();
    }
    r.status = "starting";
    r.operation = { kind: "up", pid: process.pid, started_at: new Date(ctx.clock.now()).toISOString() };
    r.updated_at = r.operation.started_at;
    return { ...r };
  });
  const key = envKey(rec.project, rec.name);
  timing(local.env, "up: marked starting");
  /** Set once this up changes something in Docker; a failure before that is a pre-flight failure. */
  let started = false;
  /** Set while the env's databases are made: their failure undoes this up's shared use and record. */
  let undoShared = false;
  let sharedNames: string[] = [];
  let databases: EnvDatabase[] = [];
  let done: EnvRecord;
  let manifest: Promise<void> | undefined;
  try {
    rec = await ensureFreeSubnet(ctx, rec, await networks);
    timing(local.env, "up: subnet checked");
    rec = await ensureExtraSubnets(ctx, rec, resolved.model);
    sharedNames = sharedServiceNames(resolved.model, resolved.config, {
      ...(opts.share ? { share: opts.share } : {}),
      ...(opts.isolate ? { isolate: opts.isolate } : {}),
    });
    const dbSpecs = perEnvDatabaseSpecs(resolved.model, resolved.config, sharedNames);
    const joinNetworks = joinedNetworks(readState(ctx), rec);
    const dropped = (rec.shared_services ?? []).filter((s) => !sharedNames.includes(s));
    if (dropped.length > 0 || sharedNames.length > 0) started = true;
    if (dropped.length > 0) await releaseShared(ctx, rec.project, rec.name, dropped);
    let shared: { network: string; containers: ContainerState[] } | undefined;
    if (sharedNames.length > 0) shared = await acquireShared(ctx, rec, resolved.model, sharedNames);
    if (shared && dbSpecs.length > 0) {
      // Before the env's own services start, so they find their database. A failure here (a
      // template that does not exist) changed nothing of the env: it is undone like a pre-flight one.
      undoShared = dropped.length === 0;
      databases = await ensureEnvDatabases(ctx, shared.containers, dbSpecs, rec.name, opts.timeoutMs ?? 120_000);
      undoShared = false;
    }
    if (rec.host && sharedNames.length > 0) {
      throw usageError(
        `The env ${key} runs on host ${rec.host}: shared services (${sharedNames.join(", ")}) are not supported there yet`,
        `Run them in the env: cilo up ${qualifiedEnv(rec.project, rec.name)} --isolate ${sharedNames[0]}`,
      );
    }
    const ca = containerCa(ctx, home!.id, resolved.model);
    const renderOpts = {
      ...(shared ? { shared: { services: sharedNames, network: shared.network } } : {}),
      joinNetworks,
      ...(ca !== undefined ? { ca } : {}),
      ...(databases.length > 0 ? { environment: databaseEnvironment(databases) } : {}),
    };
    let rendered = writeEnvCompose(rec, home!, resolved, renderOpts);
    timing(local.env, "up: file rendered");
    const services = serviceRecordsFromModel({ services: { ...(resolved.model["services"] as object) } }, resolved.config)
      .filter((s) => rendered.services.includes(s.name) || sharedNames.includes(s.name))
      .map((s) => (sharedNames.includes(s.name) ? { ...s, shared: true } : s));
    await checkDnsNames({ ...rec, services }, readState(ctx));
    timing(local.env, "up: dns names checked");
    failpoint(ctx.env, "up:before-compose");
    // The early compose was started for this env's compose project and workspace, which an up never changes.
    const fed = early && early.rec.docker_name === rec.docker_name && early.rec.workspace === rec.workspace ? early : undefined;
    // The env network, made while compose still loads (and, on a host, while the push ends: both
    // wait on the host, not on each other): compose finds it and goes on to the containers. A
    // subnet taken since the check is re-picked as compose's failure would be.
    const making =
      fed && provider.createNetwork
        ? (async () => {
            let made: Awaited<ReturnType<typeof createEnvNetwork>> = "skipped";
            for (let attempt = 1; ; attempt++) {
              made = await createEnvNetwork(provider, cli, rec, rendered.rendered);
              if (made !== "subnet-taken" || attempt >= SUBNET_RACE_ATTEMPTS) break;
              rec = await ensureExtraSubnets(ctx, await ensureFreeSubnet(ctx, rec), resolved.model);
              rendered = writeEnvCompose(rec, home!, resolved, renderOpts);
            }
            return made;
          })()
        : undefined;
    making?.catch(() => {}); // awaited below
    if (pushing) {
      try {
        // The manifest of this push (what the next `cilo sync` compares with) is listed while
        // compose runs, not on the way to compose; a listing that fails leaves none (the next
        // push compares everything).
        manifest = (await pushing).recordManifest?.().catch(() => {});
      } catch (e) {
        // A push that failed is a pre-flight failure: the network this up just made goes again.
        if ((await making?.catch(() => undefined)) === "made") await provider.removeNetwork(rec.docker_name).catch(() => {});
        throw e;
      }
      timing(local.env, "up: workspace pushed");
    }
    started = true;
    if (making) {
      await making;
      timing(local.env, "up: env network made");
    }
    preloadDns(); // while compose runs
    for (let attempt = 1; ; attempt++) {
      timing(local.env, "up: compose has its file");
      const r = await (attempt === 1 && fed
        ? fed.feed(rendered.yaml)
        : ctx.runCompose(cli, envComposeTarget(rec), args, {
            ...(opts.onOutput ? { onOutput: (c: string) => opts.onOutput!(c) } : {}),
            ...(opts.signal ? { signal: opts.signal } : {}),
          }));
      if (r.code === 0) break;
      // Another CILO_HOME on this engine (no lock is shared between homes) or any other program
      // may have made a network on this env's subnet since it was checked: compose then fails to
      // create the env network (Docker: "Pool overlaps"; Podman: "subnet … is already used on the
      // host or by another config") and has made nothing else. Take a free subnet
      // now that the other network is visible, and run compose again.
      if (attempt >= SUBNET_RACE_ATTEMPTS || !subnetTaken(`${r.stderr}\n${r.stdout}`))
        throw await upFailure(`Starting ${key} failed`, r, provider, rendered.rendered);
      rec = await ensureExtraSubnets(ctx, await ensureFreeSubnet(ctx, rec), resolved.model);
      rendered = writeEnvCompose(rec, home!, resolved, renderOpts);
    }
    failpoint(ctx.env, "up:after-compose");
    timing(local.env, "up: compose exited");
    await manifest;
    if (opts.wait) {
      // The timeout counts from here, when compose has returned: pulls and builds are not waiting.
      await waitForServices(provider, {
        labels: envSelectorLabels(rec, home!.id),
        services: rendered.services,
        timeoutMs: opts.timeoutMs ?? 120_000,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onWaiting ? { onWaiting: opts.onWaiting } : {}),
      });
    }
    const containers = await envContainers(provider, rec, home!.id);
    timing(local.env, "up: containers read");
    const merged = [
      ...mergeRuntime(
        services.filter((s) => !s.shared),
        containers,
        rec.docker_name,
      ),
      ...(shared
        ? mergeRuntime(
            services.filter((s) => s.shared),
            shared.containers,
            shared.network,
          )
        : []),
    ].sort((a, b) => (a.name < b.name ? -1 : 1));
    done = await withState(ctx, (state) => {
      const cur = state.envs[key];
      if (!cur) throw new CiloError("E_ENV_VANISHED", `The env ${key} was destroyed while it was starting`);
      const now = new Date(ctx.clock.now()).toISOString();
      cur.status = "running";
      cur.services = merged;
      if (sharedNames.length > 0) cur.shared_services = sharedNames;
      else delete cur.shared_services;
      // Kept until destroy drops them, also when a later up no longer asks for one.
      const dbs = [...(cur.databases ?? []).filter((d) => !databases.some((n) => n.service === d.service)), ...databases];
      if (dbs.length > 0) cur.databases = dbs.sort((a, b) => (a.service < b.service ? -1 : 1));
      cur.updated_at = now;
      cur.last_used_at = now;
      state.compose = { command: cli.command, version: cli.version };
      delete cur.error;
      delete cur.operation;
      return { ...cur };
    });
    timing(local.env, "up: recorded running");
  } catch (e) {
    if (!started && before) {
      await restoreAfterPreflight(ctx, before, process.pid).catch(() => {});
      throw e;
    }
    if (undoShared && before) {
      const fresh = sharedNames.filter((s) => !(before!.shared_services ?? []).includes(s));
      if (fresh.length > 0) await releaseShared(ctx, rec.project, rec.name, fresh).catch(() => {});
      await restoreAfterPreflight(ctx, before, process.pid).catch(() => {});
      throw e;
    }
    await releaseShared(ctx, rec.project, rec.name).catch(() => {});
    await withState(ctx, (state) => {
      const cur = state.envs[key];
      if (!cur) return;
      delete cur.shared_services;
      cur.status = "failed";
      cur.error = messageOf(e).split("\n")[0]!;
      cur.updated_at = new Date(ctx.clock.now()).toISOString();
      delete cur.operation;
    }).catch(() => {});
    throw e;
  }
  // The env is up whatever the gateway does: a gateway failure is reported, not recorded on the env.
  // Forwards first (they are the env's own), then the gateway even when they failed.
  // An env on a host gets both on this machine through one ssh forward (docs/remote.md "Names"):
  // its TCP forwards listen here and this machine's gateway dials its HTTP sockets (a laptop
  // without an engine of its own gets the TCP forwards only).
  // A tcp:// host's envs instead get forward containers and a gateway on the host's engine,
  // published on its address, which this machine's gateway routes their names to.
  // How this machine reaches the host's envs comes from the engine reached above, once for both.
  const reached = rec.host === undefined ? undefined : reachedHost(ctx, readState(local).hosts?.[rec.host]?.resolved);
  // The env's DNS names are made meanwhile: they read the state just written, under the DNS lock,
  // and need neither forwards nor gateway (refreshDns warns, never throws); up returns after them.
  const dns = refreshDns(local, key).then(() => timing(local.env, "up: dns refreshed"));
  let gateway: Awaited<ReturnType<typeof syncEnvGateways>>;
  let forwards: unknown;
  try {
    forwards = await syncEnvForwards(local, ctx, key, rec.host, reached).catch((e: unknown) => e);
    timing(local.env, "up: forwards synced");
    gateway = await syncEnvGateways(local, rec.host, reached);
    timing(local.env, "up: gateway synced");
  } finally {
    await dns;
  }
  // The first gateway on this engine found out how the host reaches containers (auto routing): every env's names again, after this env's.
  if ("routingChanged" in gateway && gateway.routingChanged) await refreshDns(local);
  if (!Array.isArray(forwards)) throw forwards;
  if (forwards.length > 0) done = { ...done, forwards };
  return done;
}

/**
 * Makes the env network exactly as compose v1 would from the rendered file (driver, one subnet,
 * its labels plus compose's own), so that compose finds it and checks it instead of making it.
 * Only the network cilo renders for every env (`transform.ts`); anything else is left to compose.
 * "exists": made earlier (an up before, or compose). Other failures are left to compose to report.
 */
async function createEnvNetwork(
  provider: RuntimeProvider,
  cli: ComposeCli,
  rec: EnvRecord,
  rendered: Record<string, unknown>,
): Promise<"made" | "exists" | "subnet-taken" | "skipped"> {
  const nets = isRecord(rendered["networks"]) ? rendered["networks"] : {};
  const net = nets["default"];
  if (!isRecord(net) || net["name"] !== rec.docker_name || net["driver"] !== "bridge") return "skipped";
  if (Object.keys(net).some((k) => !["name", "driver", "ipam", "labels"].includes(k))) return "skipped";
  const ipam = net["ipam"];
  const config = isRecord(ipam) && Object.keys(ipam).length === 1 && Array.isArray(ipam["config"]) ? ipam["config"] : [];
  const only = config.length === 1 && isRecord(config[0]) && Object.keys(config[0]).length === 1 ? config[0]["subnet"] : undefined;
  if (only !== rec.subnet) return "skipped";
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(isRecord(net["labels"]) ? net["labels"] : {})) if (typeof v === "string") labels[k] = v;
  try {
    await provider.createNetwork!({
      name: rec.docker_name,
      driver: "bridge",
      subnet: rec.subnet,
      // As compose v1 labels the networks it makes (compose/network.py): its checks and `down` treat this one as its own.
      labels: {
        ...labels,
        "com.docker.compose.network": rec.docker_name,
        "com.docker.compose.project": composeProjectName(rec.docker_name),
        "com.docker.compose.version": cli.version,
      },
    });
    return "made";
  } catch (e) {
    if (e instanceof CiloError && e.code === "E_DOCKER_CONFLICT") return "exists";
    if (subnetTaken(messageOf(e))) return "subnet-taken";
    return "skipped";
  }
}

/** compose v1's project name for `-p <name>`: lower case, only `-`, `_`, a–z and 0–9 kept. */
function composeProjectName(name: string): string {
  return name.toLowerCase().replace(/[^-_a-z0-9]/g, "");
}

/** Refuses an env that another live process is taking down or destroying. */
function assertNotBusy(r: EnvRecord): EnvRecord {
  if (r.operation && r.operation.kind !== "up" && isProcessAlive(r.operation.pid)) {
    throw new CiloError("E_ENV_BUSY", `The env ${r.project}/${r.name} is busy: ${r.operation.kind} is running (pid ${r.operation.pid})`, {
      hint: "Wait for it to finish",
    });
  }
  return r;
}

/**
 * After a failure before compose changed anything (subnet check, transform, DNS names), the env
 * gets back the status, services, error and remembered networks it had: a running env stays
 * running and keeps its DNS names. A subnet re-allocated meanwhile is kept (its network does not
 * exist yet). Nothing is restored when another up has taken the env over.
 */
async function restoreAfterPreflight(ctx: CiloContext, before: EnvRecord, pid: number): Promise<void> {
  await withState(ctx, (state) => {
    const cur = state.envs[envKey(before.project, before.name)];
    if (!cur || cur.operation?.pid !== pid) return;
    for (const field of ["status", "services", "error", "shared_services", "shared_networks", "operation", "updated_at"] as const) {
      if (before[field] === undefined) delete cur[field];
      else Object.assign(cur, { [field]: before[field] });
    }
  });
}

/** compose's failure, or the engine's when compose's output does not say but the engine no longer answers. */
async function upFailure(what: string, r: RunResult, provider: RuntimeProvider, model: Record<string, unknown>): Promise<CiloError> {
  const failure = composeFailure(what, r, { during: "up" });
  if (failure.code !== "E_COMPOSE") return failure;
  const pull = pullFailure(`${r.stdout}\n${r.stderr}`, imagesOf(model));
  if (pull) {
    return new CiloError("E_IMAGE_PULL", `${what}: the image ${pull.image} of service ${pull.service} could not be pulled: ${pull.reason}`, {
      hint: `Check the image name, or make ${pull.image} available to the engine (docker pull, docker load or docker build), then up again`,
    });
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("no answer within 5 s")), 5000);
  });
  try {
    await Promise.race([provider.ping(), timeout]);
    return failure;
  } catch (e) {
    const reason = messageOf(e).match(/\(([^()]*)\)$/)?.[1] ?? messageOf(e);
    return engineLost("up", reason);
  } finally {
    clearTimeout(timer);
  }
}

/** Each service's image in a compose model. */
function imagesOf(model: Record<string, unknown>): Record<string, string> {
  const services = isRecord(model["services"]) ? model["services"] : {};
  const images: Record<string, string> = {};
  for (const [name, svc] of Object.entries(services)) if (isRecord(svc) && typeof svc["image"] === "string") images[name] = svc["image"];
  return images;
}

/**
 * The env's subnet must not overlap any network or route that appeared since it was allocated;
 * if it does, a new one is allocated under the lock. `listed`: the engine's networks, asked already.
 */
async function ensureFreeSubnet(ctx: CiloContext, rec: EnvRecord, listed?: NetworkState[]): Promise<EnvRecord> {
  const provider = await ctx.provider();
  const own = rec.docker_name;
  const nets = listed ?? (await provider.listNetworks());
  const existing = nets.find((n) => n.name === own);
  if (existing) {
    if (existing.subnets.includes(rec.subnet)) return rec;
    throw new CiloError("E_NETWORK_MISMATCH", `The network ${own} exists with subnet ${existing.subnets.join(", ") || "none"}, not ${rec.subnet} as recorded`, {
      hint: `Run cilo down ${qualifiedEnv(rec.project, rec.name)} to remove it, then up again`,
    });
  }
  const foreign = await foreignSubnets(provider, [own], nets);
  const mine = parseCidr(rec.subnet)!;
  if (!foreign.some((f) => parseCidr(f) && overlaps(parseCidr(f)!, mine))) return rec;
  return withState(ctx, (state) => {
    const cur = state.envs[envKey(rec.project, rec.name)];
    if (!cur) throw new CiloError("E_ENV_VANISHED", `The env ${rec.project}/${rec.name} was destroyed meanwhile`);
    const taken = [...stateSubnets(state, { env: envKey(rec.project, rec.name), host: cur.host ?? null }), ...foreign];
    cur.subnet = allocateSubnet(state.config.subnet_pool, state.config.subnet_size, taken);
    return { ...cur };
  });
}
