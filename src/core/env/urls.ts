import { DEFAULT_GATEWAY_HTTP_PORT, gatewayDisabled, publishAddress } from "../gateway/settings.ts";
import { gatewayUrl, LOCALHOST_TLD, localhostName } from "../gateway/render.ts";
import type { EnvRecord, StateConfig } from "../state/schema.ts";
import { readState, type StateHome } from "../state/store.ts";

/** The DNS suffix of an env: the project's if it set one, else the machine's. */
export async function dnsSuffixOf(ctx: StateHome, rec: EnvRecord): Promise<string> {
  return rec.dns_suffix ?? readState(ctx).config.dns_suffix;
}

/**
 * `CILO_BASE_URL` and `cilo.base_url` (SPEC §6a, docs/routing.md). With the gateway on a local
 * engine (given `config`): the zero-set-up `http://<env>.<project>.localhost[:port]` (the ingress
 * service through the gateway). Else, as before: `http://<project>.<env>.<suffix>` (cilo's DNS).
 */
export function baseUrl(project: string, env: string, suffix: string, config?: Pick<StateConfig, "gateway_http_port">, viaGateway = false): string {
  if (config && viaGateway) {
    const port = config.gateway_http_port ?? DEFAULT_GATEWAY_HTTP_PORT;
    return `http://${env}.${project}.localhost${port === 80 ? "" : `:${port}`}`;
  }
  return `http://${project}.${env}.${suffix}`;
}

/**
 * Whether `.localhost` names reach the gateway from this host: it is not turned off and the engine
 * is local (for a `tcp://` engine it publishes on that engine's address, which `.localhost` is not).
 */
export function localGateway(env: Readonly<Record<string, string | undefined>>, engineHost: string): boolean {
  return !gatewayDisabled(env) && publishAddress(engineHost) === "127.0.0.1";
}

/** Every DNS name of a service in an env. */
export function serviceDnsNames(
  service: { name: string; hostnames?: string[]; ingress?: boolean },
  rec: EnvRecord,
  suffix: string,
  extra: string[] = [],
): string[] {
  const names = [`${service.name}.${rec.name}.${suffix}`, ...[...(service.hostnames ?? []), ...extra].map((h) => `${h}.${rec.name}.${suffix}`)];
  if (service.ingress) names.push(`${rec.project}.${rec.name}.${suffix}`, `*.${rec.project}.${rec.name}.${suffix}`);
  return [...new Set(names)];
}

/** Where a service of a running env answers from the host: its HTTP URLs and TCP forward addresses. */
export interface ServiceEndpoints {
  service: string;
  /** `.localhost` URLs through the gateway (when it serves this host), then the `.test`-style URL. */
  urls: string[];
  /** `address:host_port` of each TCP forward, with the container port it reaches. */
  tcp: { address: string; port: number }[];
}

/**
 * Each service's URLs and TCP addresses, as `cilo up` ends with them (docs/routing.md): the
 * service's `.localhost` name (and the ingress's short one) through the gateway when
 * `viaGateway`, the `.test`-style name (on the service's HTTP port in `direct` routing, the
 * gateway's port in `gateway` routing), and the env's recorded TCP forwards. A service whose HTTP
 * port is a TCP-forwarded one (a database) is listed with its forwards only.
 */
export function serviceEndpoints(
  rec: Pick<EnvRecord, "project" | "name" | "services" | "forwards" | "dns_suffix" | "host">,
  config: Pick<StateConfig, "dns_suffix" | "gateway_http_port" | "routing">,
  viaGateway: boolean,
): ServiceEndpoints[] {
  const suffix = rec.dns_suffix ?? config.dns_suffix;
  const gatewayPort = config.gateway_http_port ?? DEFAULT_GATEWAY_HTTP_PORT;
  return [...rec.services]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((s) => {
      // A service whose HTTP port is one of its TCP ports (a database) gets no HTTP URL: it would answer 502.
      const http = !(s.tcp ?? []).includes(s.port ?? 80);
      return {
        service: s.name,
        urls: http
          ? [
              ...(viaGateway ? [gatewayUrl(localhostName(s.name, rec.project, rec.name), gatewayPort)] : []),
              ...(viaGateway && s.ingress ? [gatewayUrl(`${rec.name}.${rec.project}.${LOCALHOST_TLD}`, gatewayPort)] : []),
              // An env on a host has no .test names here (cilo's DNS would answer the host's container IPs).
              ...(rec.host ? [] : [gatewayUrl(`${s.name}.${rec.name}.${suffix}`, config.routing === "gateway" ? gatewayPort : (s.port ?? 80))]),
            ]
          : [],
        tcp: (rec.forwards ?? []).filter((f) => f.service === s.name).map((f) => ({ address: `${f.address}:${f.host_port}`, port: f.port })),
      };
    });
}
