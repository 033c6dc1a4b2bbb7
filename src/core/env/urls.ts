import { DEFAULT_GATEWAY_HTTP_PORT, gatewayDisabled, publishAddress } from "../gateway/gateway.ts";
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
