import { effectiveRouting } from "../gateway/routing.ts";
import { isPrivateUseSuffix } from "../dns-names.ts";
import { readTextFile, resolveDockerEndpoint } from "../docker-endpoint.ts";
import { publishAddress } from "../gateway/settings.ts";
import { runningSuffixes } from "../state/layout.ts";
import type { EnvRecord, State } from "../state/schema.ts";
import type { DnsOptions } from "./dnsmasq.ts";
import type { DnsEnv } from "./render.ts";

/** What `.test` names answer in `routing: gateway` mode with a local engine: the gateway on the loopback. */
export const GATEWAY_DNS_ADDRESS = "127.0.0.1";

/**
 * The gateway's published address for this process's engine: 127.0.0.1 for a local one, the
 * engine's address for `tcp://<ip>:<port>` (where the gateway publishes; the host's loopback is
 * not the engine's there).
 */
export function gatewayDnsAddress(engineHost: string): string {
  return publishAddress(engineHost);
}

/** As `gatewayDnsAddress`, for the engine the environment names (127.0.0.1 when it names none that resolves). */
export function gatewayDnsAddressFor(env: NodeJS.ProcessEnv): string {
  try {
    return gatewayDnsAddress(resolveDockerEndpoint(env, readTextFile).host);
  } catch {
    return GATEWAY_DNS_ADDRESS;
  }
}

/**
 * The envs DNS serves: those whose status is `running`, with the services that have an IP. A
 * service's hostnames are its own (config, labels) plus those set with `cilo hostnames`. In
 * `routing: gateway` mode every name answers the gateway's address (`gatewayAddress`, else the one
 * for this process's engine) instead of the container's.
 */
export function dnsEnvsFromState(state: State, gatewayAddress?: string): DnsEnv[] {
  const gateway = gatewayFor(state, gatewayAddress);
  return Object.values(state.envs).flatMap((e) => dnsEnvOf(e, state, gateway, gatewayAddress) ?? []);
}

/** `dnsEnvsFromState` for one env, read alone: undefined when DNS does not serve it. */
export function dnsEnvFromState(state: State, key: string, gatewayAddress?: string): DnsEnv | undefined {
  const e = state.envs[key];
  return e ? dnsEnvOf(e, state, gatewayFor(state, gatewayAddress), gatewayAddress) : undefined;
}

/**
 * The suffix of every env DNS serves, from the index (no record read): what the front's `local=`
 * lines need besides the machine's suffix. The same set `dnsEnvsFromState` gives.
 */
export function servedSuffixesFromIndex(state: State): string[] {
  return [...runningSuffixes(state, state.config.dns_suffix)]; // served: running (isServed)
}

/** What every env's names depend on besides the env itself (DnsOptions.basis): the machine's suffix and the gateway address. */
export function dnsBasisOf(state: State, gatewayAddress?: string): string {
  return `${JSON.stringify({ dns_suffix: state.config.dns_suffix, gateway: gatewayFor(state, gatewayAddress), remote: gatewayAddress ?? GATEWAY_DNS_ADDRESS })}\n`;
}

/** The address every name answers in `routing: gateway` mode, "" in direct routing. */
function gatewayFor(state: State, gatewayAddress: string | undefined): string {
  return effectiveRouting(state.config).mode === "gateway" ? (gatewayAddress ?? GATEWAY_DNS_ADDRESS) : "";
}

/** DNS serves envs whose status is `running`, on this machine's engine or on a host. */
function isServed(e: { status: string }): boolean {
  return e.status === "running";
}

/**
 * One env's names. An env on a host answers this machine's gateway (`localGateway`, else the
 * loopback) whatever the routing: its container IPs are that engine's, not reachable here, and this
 * machine's gateway routes its names (ssh forward or the host's gateway; docs/remote.md "Names of
 * remote envs", or a 503 page saying why when neither reaches it).
 */
function dnsEnvOf(e: EnvRecord, state: State, gateway: string, localGateway: string | undefined): DnsEnv | undefined {
  if (!isServed(e)) return undefined;
  const answer = e.host ? (localGateway ?? GATEWAY_DNS_ADDRESS) : gateway;
  return {
    project: e.project,
    env: e.name,
    suffix: e.dns_suffix ?? state.config.dns_suffix,
    services: e.services
      .filter((s) => s.ip)
      .map((s) => {
        const hostnames = [...new Set([...(s.hostnames ?? []), ...(e.hostnames?.[s.name] ?? [])])];
        return {
          name: s.name,
          ip: answer !== "" ? answer : s.ip!,
          ...(hostnames.length > 0 ? { hostnames } : {}),
          ...(s.ingress ? { ingress: true } : {}),
        };
      }),
  };
}

/** Port and the machine's suffix (answered locally even before any env runs). */
export function dnsOptionsFromState(state: State, at: { home: string; env: NodeJS.ProcessEnv }): DnsOptions {
  return { port: state.config.dns_port, suffixes: [state.config.dns_suffix], home: at.home, env: at.env };
}

/**
 * The suffixes `cilo dns setup` wires to the system resolver: the machine's (the user's choice)
 * and each env's project suffix under a name reserved for private use. An env suffix that is not
 * (a state from before that rule) is `skipped`: a repository must not claim a public domain.
 */
export function resolverSuffixes(state: State): { suffixes: string[]; skipped: string[] } {
  const envSuffixes = [
    ...new Set(Object.values(state.envs).flatMap((e) => (e.dns_suffix && e.dns_suffix !== state.config.dns_suffix ? [e.dns_suffix] : []))),
  ].sort();
  return { suffixes: [state.config.dns_suffix, ...envSuffixes.filter(isPrivateUseSuffix)], skipped: envSuffixes.filter((s) => !isPrivateUseSuffix(s)) };
}
