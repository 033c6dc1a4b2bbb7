import type { CiloContext } from "../context/context.ts";
import { dependantsOf } from "../shared/dependants.ts";
import type { EnvRecord } from "../state/schema.ts";
import { readState } from "../state/store.ts";
import { currentProject } from "../config/current-project.ts";
import { findEnv } from "../state/find-env.ts";
import { envContainers, sharedContainers } from "../runtime/env-resources.ts";
import { mergeRuntime } from "./services.ts";
import { baseUrl, localGateway, serviceDnsNames } from "./urls.ts";
import { gatewayUrl, LOCALHOST_TLD, portHosts, serviceHosts } from "../gateway/render.ts";
import { DEFAULT_GATEWAY_HTTP_PORT } from "../gateway/gateway.ts";
import { forwardVariable } from "../forward/ports.ts";

/** `cilo status --json` (SPEC §6a); fields may be added, never renamed. */
export interface EnvStatusView {
  project: string;
  name: string;
  status: string;
  subnet: string;
  /** Subnets of the env's copies of networks that fix one in ipam, by network key. */
  extra_subnets: Record<string, string>;
  network: string;
  workspace: string;
  base_url: string;
  services: { name: string; state: string; health: string | null; ip: string | null; dns: string[]; urls: string[]; sharing: "shared" | "isolated" }[];
  /** Envs whose network this env joins, and envs that join this env's network (SPEC §8). */
  shared_networks: string[];
  dependants: string[];
  /** TCP forwards of a running env (docs/routing.md "TCP services"): `address:host_port` reaches the service's `port`. */
  forwards: { service: string; port: number; address: string; host_port: number; variable: string }[];
  operation?: EnvRecord["operation"];
  error?: string;
}

/** An env as state records it, with each service's state, health and IP read live from Docker. */
export async function envStatus(ctx: CiloContext, ref: string, explicitProject?: string): Promise<EnvStatusView> {
  const state = readState(ctx);
  const rec = findEnv(state, ref, await currentProject(explicitProject, ctx.cwd));
  const suffix = rec.dns_suffix ?? state.config.dns_suffix;
  const provider = await ctx.provider();
  const containers = await envContainers(provider, rec, state.home_id);
  const network = rec.docker_name;
  const sharedOnes = rec.services.filter((s) => s.shared);
  const sharedNetwork = state.shared?.[rec.project]?.network;
  const shared = sharedOnes.length > 0 ? await sharedContainers(provider, rec.project, sharedNetwork, state.home_id) : [];
  const services = [
    ...mergeRuntime(
      rec.services.filter((s) => !s.shared),
      containers,
      network,
    ),
    ...(sharedNetwork ? mergeRuntime(sharedOnes, shared, sharedNetwork) : sharedOnes),
  ].sort((a, b) => (a.name < b.name ? -1 : 1));
  return {
    project: rec.project,
    name: rec.name,
    status: rec.status,
    subnet: rec.subnet,
    extra_subnets: rec.extra_subnets ?? {},
    network,
    workspace: rec.workspace,
    base_url: baseUrl(rec.project, rec.name, suffix, state.config, localGateway(ctx.env, ctx.endpoint().host)),
    services: services.map((s) => ({
      name: s.name,
      state: s.state ?? "unknown",
      health: s.health ?? null,
      ip: s.ip ?? null,
      dns: serviceDnsNames(s, rec, suffix, rec.hostnames?.[s.name] ?? []),
      urls: [
        ...serviceHosts(rec, s, suffix, rec.hostnames?.[s.name] ?? []).hosts.filter((h) => h.endsWith(`.${LOCALHOST_TLD}`)),
        ...portHosts(rec, s).map((p) => p.host),
      ].map((h) => gatewayUrl(h, state.config.gateway_http_port ?? DEFAULT_GATEWAY_HTTP_PORT)),
      sharing: s.shared ? ("shared" as const) : ("isolated" as const),
    })),
    shared_networks: rec.shared_networks ?? [],
    dependants: dependantsOf(state, rec),
    forwards: (rec.status === "running" ? (rec.forwards ?? []) : []).map((f) => ({ ...f, variable: forwardVariable(f.service, f.port) })),
    ...(rec.operation ? { operation: rec.operation } : {}),
    ...(rec.error ? { error: rec.error } : {}),
  };
}
