import type { CiloContext } from "../context/context.ts";
import { currentProjectFor } from "../config/current-project.ts";
import { forwardVariable } from "../forward/ports.ts";
import { DEFAULT_GATEWAY_HTTP_PORT } from "../gateway/settings.ts";
import { gatewayUrl, LOCALHOST_TLD, portHosts, serviceHosts } from "../gateway/render.ts";
import { envContainers, sharedContainers } from "../runtime/env-resources.ts";
import { dependantsFromIndex, dependantsOf } from "../shared/dependants.ts";
import { findEnv } from "../state/find-env.ts";
import { envKeys } from "../state/layout.ts";
import { envKey, type EnvRecord, type ServiceRecord, type State } from "../state/schema.ts";
import { type DestroyView, ENV_SCHEMA_VERSION, type EnvReachView, type EnvView } from "./views.ts";

export { type DestroyView, ENV_SCHEMA_VERSION, type EnvView, type RunResult, type ServiceView } from "./views.ts";
import { readState } from "../state/store.ts";
import { mergeRuntime } from "./services.ts";
import { baseUrl, localGateway, serviceDnsNames } from "./urls.ts";
import { envContext, reachEnv } from "./env-context.ts";
import { tunnelStatus } from "../gateway/tunnel-names.ts";
import { type HostReach, hostReachesFor, reachOf } from "../gateway/host-reach.ts";
import { gatewayContainerName, LABEL_GATEWAY, LABEL_HOME, LABEL_MANAGED } from "../labels.ts";

/**
 * The env object of `rec` as `state` records it. `live` (from `liveServices`) adds each service's
 * state and health and its IP as Docker reports it; without it (as in `cilo list`) the IPs are
 * those recorded at the last up and state/health are left out.
 */
export function envView(
  ctx: Pick<CiloContext, "env" | "endpoint">,
  state: State,
  rec: EnvRecord,
  live?: ServiceRecord[],
  /** Every env's dependants, computed once (envViews): one scan per env would make a list quadratic. */
  index?: ReadonlyMap<string, string[]>,
  /** `gatewayIsLocal(ctx)`, computed once by a caller that makes many views. */
  viaGateway: boolean = gatewayIsLocal(ctx),
  /** How each host's envs are reached (`hostReachesFor`), computed once by a caller that makes many views. */
  reaches?: ReadonlyMap<string, HostReach>,
): EnvView {
  // An env on a host has names and TCP forwards here only when this machine reaches it (ssh
  // forward, or the host's gateway at its address): docs/remote.md "Names of remote envs".
  const unreached = rec.host !== undefined && reachOf(reaches ?? hostReachesFor(ctx, state), rec.host).via === "none";
  const suffix = rec.dns_suffix ?? state.config.dns_suffix;
  const port = state.config.gateway_http_port ?? DEFAULT_GATEWAY_HTTP_PORT;
  const services = [...(live ?? rec.services)].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    schema_version: ENV_SCHEMA_VERSION,
    project: rec.project,
    name: rec.name,
    status: rec.status,
    subnet: rec.subnet,
    extra_subnets: rec.extra_subnets ?? {},
    network: rec.docker_name,
    workspace: rec.workspace,
    base_url: baseUrl(rec.project, rec.name, suffix, state.config, viaGateway),
    created_at: rec.created_at,
    updated_at: rec.updated_at,
    ...(rec.last_used_at ? { last_used_at: rec.last_used_at } : {}),
    ...(rec.source ? { source: rec.source } : {}),
    services: services.map((s) => ({
      name: s.name,
      ...(live ? { state: s.state ?? "unknown", health: s.health ?? null } : {}),
      ip: s.ip ?? null,
      dns: serviceDnsNames(s, rec, suffix, rec.hostnames?.[s.name] ?? []),
      urls: (unreached
        ? []
        : [
            ...serviceHosts(rec, s, suffix, rec.hostnames?.[s.name] ?? []).hosts.filter((h) => h.endsWith(`.${LOCALHOST_TLD}`)),
            ...portHosts(rec, s).map((p) => p.host),
          ]
      ).map((h) => gatewayUrl(h, port)),
      sharing: s.shared ? "shared" : "isolated",
      ingress: s.ingress === true,
    })),
    shared_services: services.filter((s) => s.shared).map((s) => s.name),
    shared_networks: rec.shared_networks ?? [],
    dependants: index ? (index.get(envKey(rec.project, rec.name)) ?? []) : dependantsOf(state, rec),
    forwards: (rec.status === "running" && !unreached ? (rec.forwards ?? []) : []).map((f) => ({ ...f, variable: forwardVariable(f.service, f.port) })),
    ...(rec.host !== undefined ? { host: rec.host, ...(rec.remote_workspace ? { remote_workspace: rec.remote_workspace } : {}) } : {}),
    ...(rec.owner_pid !== undefined ? { owner_pid: rec.owner_pid } : {}),
    ...(rec.lease !== undefined ? { lease: rec.lease } : {}),
    ...(rec.expires_at !== undefined ? { expires_at: rec.expires_at } : {}),
    ...(rec.operation ? { operation: rec.operation } : {}),
    ...(rec.error ? { error: rec.error } : {}),
  };
}

/** The env's services with state, health and IP as Docker reports them now. */
export async function liveServices(ctx: CiloContext, state: State, rec: EnvRecord): Promise<ServiceRecord[]> {
  const provider = await ctx.provider();
  const containers = await envContainers(provider, rec, state.home_id);
  const sharedOnes = rec.services.filter((s) => s.shared);
  const sharedNetwork = state.shared?.[rec.project]?.network;
  const shared = sharedOnes.length > 0 ? await sharedContainers(provider, rec.project, sharedNetwork, state.home_id) : [];
  return [
    ...mergeRuntime(
      rec.services.filter((s) => !s.shared),
      containers,
      rec.docker_name,
    ),
    ...(sharedNetwork ? mergeRuntime(sharedOnes, shared, sharedNetwork) : sharedOnes),
  ];
}

/** The env object of `rec` (as state has it now) with its services read live from Docker. */
export async function liveEnvView(ctx: CiloContext, rec: EnvRecord): Promise<EnvView> {
  const state = readState(ctx);
  const current = state.envs[envKey(rec.project, rec.name)] ?? rec;
  // Services from the env's own engine (its host's for an env on a host); its URLs as this machine sees them.
  const hctx = envContext(ctx, current);
  const reaches = current.host ? hostReachesFor(ctx, state) : undefined;
  const view = envView(ctx, state, current, await liveServices(hctx, state, current), undefined, undefined, reaches);
  if (!current.host) return view;
  return { ...view, reach: await reachStatus(hctx, state, current, reachOf(reaches!, current.host)) };
}

/** How this machine reaches an env on a host now (`cilo status`, docs/remote.md "Names of remote envs"). */
async function reachStatus(hctx: CiloContext, state: State, rec: EnvRecord, reach: HostReach): Promise<EnvReachView> {
  if (reach.via === "ssh-forward") return tunnelStatus(hctx.home, rec);
  if (reach.via === "none") return { via: "none", running: false, why: reach.why };
  // The host's gateway, found as every cilo resource is: by its labels (this home's) and name.
  const provider = await hctx.provider();
  const gateways = await provider.listContainers({ [LABEL_MANAGED]: "true", [LABEL_GATEWAY]: "true", [LABEL_HOME]: state.home_id });
  const running = gateways.some((c) => c.name === gatewayContainerName(state.home_id, rec.host) && c.state === "running");
  return { via: "remote-gateway", running, address: reach.address, http_port: state.config.gateway_http_port ?? DEFAULT_GATEWAY_HTTP_PORT };
}

/** `cilo status <env>`: the env object of `ref`, services read live from Docker. */
export async function envStatus(ctx: CiloContext, ref: string, explicitProject?: string): Promise<EnvView> {
  const rec = findEnv(readState(ctx), ref, await currentProjectFor(ref, explicitProject, ctx.cwd));
  await reachEnv(ctx, rec); // a host that does not answer: exit 3 naming it
  return liveEnvView(ctx, rec);
}

/** Every env of `state` (of one project when given), sorted by project then name, without live fields: `cilo list`. */
export function envViews(ctx: Pick<CiloContext, "env" | "endpoint">, state: State, project?: string): EnvView[] {
  const out: EnvView[] = [];
  forEachEnvView(ctx, state, project, (v) => out.push(v));
  return out;
}

/**
 * `envViews` one at a time, so a caller can print each as it comes (`cilo list --json` at 10,000
 * envs): records are read in list order, dependants come from the index, the gateway check is made once.
 */
export function forEachEnvView(ctx: Pick<CiloContext, "env" | "endpoint">, state: State, project: string | undefined, fn: (view: EnvView) => void): void {
  const index = dependantsFromIndex(state);
  const viaGateway = gatewayIsLocal(ctx);
  const reaches = state.hosts ? hostReachesFor(ctx, state) : undefined;
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const keys = envKeys(state)
    .map((key) => ({ key, project: key.slice(0, key.indexOf("/")), name: key.slice(key.indexOf("/") + 1) }))
    .filter((k) => !project || k.project === project)
    .sort((a, b) => (a.project === b.project ? cmp(a.name, b.name) : cmp(a.project, b.project)));
  for (const { key } of keys) {
    const rec = state.envs[key]; // undefined: destroyed since the index was read
    if (rec) fn(envView(ctx, state, rec, undefined, index, viaGateway, reaches));
  }
}

/** Whether `.localhost` URLs reach the gateway; an engine endpoint that does not resolve means no. */
function gatewayIsLocal(ctx: Pick<CiloContext, "env" | "endpoint">): boolean {
  try {
    return localGateway(ctx.env, ctx.endpoint().host);
  } catch {
    return false;
  }
}

/** The result of destroying `ref`: `rec` is the removed env, undefined when there was none. */
export function destroyView(ref: string, rec: EnvRecord | undefined, keepWorkspace: boolean): DestroyView {
  return {
    schema_version: ENV_SCHEMA_VERSION,
    ref,
    destroyed: rec !== undefined,
    ...(rec ? { project: rec.project, name: rec.name, workspace_kept: keepWorkspace } : {}),
  };
}
