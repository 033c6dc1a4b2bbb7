import { configIp, configPort, isDnsName, shown } from "../dns-names.ts";
import { CiloError, ExitCode } from "../errors.ts";
import { GATEWAY_TUNNEL_DIR, tunnelSocketName } from "./tunnel-names.ts";
import { addTls, type GatewayTls } from "./render-tls.ts";
import { type HostReach, hostReaches, reachOf } from "./host-reach.ts";
import { DEFAULT_GATEWAY_HTTP_PORT } from "./settings.ts";
import { envKey, type EnvRecord, type ServiceRecord, type State } from "../state/schema.ts";

/** The port Caddy listens on inside the gateway container (published on the host's loopback). */
export const GATEWAY_INNER_HTTP_PORT = 80;
/** Where the rendered config lives in the gateway container. */
export const GATEWAY_CONFIG_DIR = "/etc/caddy";
export const GATEWAY_CONFIG_FILE = "cilo.json";
/** The unix socket the routes' Caddy (the back) listens on; the front (front.ts) owns the port. */
export const GATEWAY_BACK_SOCKET = "/tmp/cilo-back.sock";
/** The zero-set-up top-level domain (RFC 6761: resolved to loopback with no resolver set-up). */
export const LOCALHOST_TLD = "localhost";
/** The port a service gets when it has no `cilo.port` label and no single exposed/published port. */
export const DEFAULT_HTTP_PORT = 80;

/** One entry of the gateway's routing table: the names it answers and where it sends them. */
export interface GatewayRoute {
  /** `<project>/<env>` */
  env: string;
  service: string;
  hosts: string[];
  /** `ip:port` when the env runs and the service has an address; else the route answers `down`. */
  upstream?: string;
  /** Why it cannot be proxied: a short sentence for the 503 page. */
  down?: string;
}

/** The `.localhost` name of a label under an env: `<label>.<env>.<project>.localhost`. */
export function localhostName(label: string, project: string, env: string): string {
  return `${label}.${env}.${project}.${LOCALHOST_TLD}`;
}

/** The names of one service (docs/routing.md): `.localhost` names first, then the `.test`-style ones. */
export function serviceHosts(rec: EnvRecord, service: ServiceRecord, suffix: string, extraHostnames: string[] = []): { hosts: string[]; wildcards: string[] } {
  const labels = [service.name, ...(service.hostnames ?? []), ...extraHostnames];
  const hosts: string[] = [];
  const wildcards: string[] = [];
  for (const l of labels) hosts.push(localhostName(l, rec.project, rec.name));
  if (service.ingress) {
    hosts.push(`${rec.name}.${rec.project}.${LOCALHOST_TLD}`, localhostName(rec.project, rec.project, rec.name));
    wildcards.push(`*.${localhostName(rec.project, rec.project, rec.name)}`);
  }
  for (const l of labels) hosts.push(`${l}.${rec.name}.${suffix}`);
  if (service.ingress) {
    hosts.push(`${rec.project}.${rec.name}.${suffix}`);
    wildcards.push(`*.${rec.project}.${rec.name}.${suffix}`);
  }
  return { hosts: [...new Set(hosts)], wildcards: [...new Set(wildcards)] };
}

/** The extra names of a service with several ports: `<port>-<service>.<env>.<project>.localhost`. */
export function portHosts(rec: EnvRecord, service: ServiceRecord): { port: number; host: string }[] {
  return (service.ports ?? []).map((port) => ({ port, host: localhostName(`${port}-${service.name}`, rec.project, rec.name) }));
}

/**
 * Which gateway a table is for: this machine's (`host` undefined), which routes every env, those on
 * a host as `reaches` says (docs/remote.md "Names of remote envs"); or the gateway a `tcp://` host's
 * engine runs for the envs on that host (`host`), which routes only those, to their container IPs.
 */
export interface GatewayScope {
  host?: string;
  /** How each host's envs are reached (host-reach.ts); absent: from the recorded addresses, a Docker context reaching nothing. */
  reaches?: ReadonlyMap<string, HostReach>;
}

/** Whether an env belongs to the gateway of `host` (undefined: this machine's, which routes every env). */
function inScope(rec: Pick<EnvRecord, "host">, host: string | undefined): boolean {
  return host === undefined || rec.host === host;
}

/**
 * The routing table the state gives the gateway: every service of every env (of the scope), sorted
 * by env and service; wildcard names after all exact ones. A name two routes would answer is refused
 * (E_DNS_COLLISION), as is any name that is not a DNS name (checked here, where it is rendered).
 */
export function gatewayRoutes(state: State, scope: GatewayScope = {}): GatewayRoute[] {
  const reaches =
    scope.reaches ??
    hostReaches(state, () => {
      throw new Error("not resolved");
    });
  const remotePort = state.config.gateway_http_port ?? DEFAULT_GATEWAY_HTTP_PORT;
  const target = (rec: EnvRecord, s: ServiceRecord, port: number) =>
    routeTarget(rec, s, port, scope.host === undefined && rec.host ? reachOf(reaches, rec.host) : undefined, remotePort);
  const exact: GatewayRoute[] = [];
  const wild: GatewayRoute[] = [];
  const owner = new Map<string, string>();
  const claim = (host: string, who: string) => {
    const check = host.startsWith("*.") ? host.slice(2) : host;
    if (!isDnsName(check))
      throw new CiloError("E_DNS_INVALID_NAME", `The gateway name ${shown(host)} of ${who} is not a DNS name`, { exitCode: ExitCode.usage });
    const prev = owner.get(host);
    if (prev !== undefined && prev !== who) {
      throw new CiloError("E_DNS_COLLISION", `The gateway name ${host} would answer for both ${prev} and ${who}`, { exitCode: ExitCode.usage });
    }
    owner.set(host, who);
  };
  for (const key of Object.keys(state.envs).sort()) {
    const rec = state.envs[key]!;
    if (!inScope(rec, scope.host)) continue;
    const suffix = rec.dns_suffix ?? state.config.dns_suffix;
    const services = [...rec.services].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const s of services) {
      const who = `${envKey(rec.project, rec.name)} service ${s.name}`;
      const { hosts, wildcards } = serviceHosts(rec, s, suffix, rec.hostnames?.[s.name] ?? []);
      const main = target(rec, s, s.port ?? DEFAULT_HTTP_PORT);
      for (const h of [...hosts, ...wildcards]) claim(h, who);
      exact.push({ env: key, service: s.name, hosts, ...main });
      for (const { port, host } of portHosts(rec, s)) {
        claim(host, `${who} port ${port}`);
        exact.push({ env: key, service: s.name, hosts: [host], ...target(rec, s, port) });
      }
      if (wildcards.length > 0) wild.push({ env: key, service: s.name, hosts: wildcards, ...main });
    }
  }
  return [...exact, ...wild];
}

/**
 * Where one route leads. `reach` is given for an env on a host routed by this machine's gateway:
 * its container IPs are the host's, so the route goes to the env's ssh forward (a socket of the
 * tunnels folder mounted into the gateway) or to the host's own gateway at its address and
 * `remotePort` (the request keeps its Host, which that gateway routes by); docs/remote.md "Names".
 */
function routeTarget(
  rec: EnvRecord,
  s: ServiceRecord,
  port: number,
  reach: HostReach | undefined,
  remotePort: number,
): { upstream: string } | { down: string } {
  const key = envKey(rec.project, rec.name);
  if (rec.status !== "running") return { down: `The env ${key} is ${rec.status}. Start it with: cilo up ${key}` };
  if (reach?.via === "none") return { down: `The env ${key} runs on host ${rec.host}, whose names this machine does not reach: ${reach.why}` };
  if (!s.ip) return { down: `The service ${s.name} of ${key} has no running container. Start it again with: cilo up ${key}` };
  if (reach?.via === "ssh-forward")
    return { upstream: `unix/${GATEWAY_TUNNEL_DIR}/${tunnelSocketName(rec.project, rec.name, s.name, configPort(port, `The port of ${s.name} in ${key}`))}` };
  if (reach?.via === "remote-gateway") {
    configPort(port, `The port of ${s.name} in ${key}`);
    return { upstream: `${configIp(reach.address, `The address of host ${rec.host}`)}:${configPort(remotePort, "The gateway HTTP port")}` };
  }
  const ip = configIp(s.ip, `The address of ${s.name} in ${key}`);
  configPort(port, `The port of ${s.name} in ${key}`);
  return { upstream: ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}` };
}

/** Whether the gateway has anything to proxy: some env runs with a service that has an address. */
export function gatewayNeeded(routes: GatewayRoute[]): boolean {
  return routes.some((r) => r.upstream !== undefined);
}

/**
 * The Docker networks the gateway must be on to reach its upstreams: each running env's network,
 * and the shared network of a project whose running env uses a shared service. Sorted.
 */
export function gatewayNetworks(state: State, host?: string): string[] {
  const out = new Set<string>();
  for (const rec of Object.values(state.envs)) {
    if (rec.host !== host || rec.status !== "running" || !rec.services.some((s) => s.ip)) continue;
    if (rec.services.some((s) => s.ip && !s.shared)) out.add(rec.docker_name);
    const shared = state.shared?.[rec.project]?.network;
    if (shared && rec.services.some((s) => s.ip && s.shared)) out.add(shared);
  }
  return [...out].sort();
}

/**
 * The names the gateway answers to inside each env network (docs/routing.md, "The same URL inside
 * the env"): the env's exact `.test`-style names (not `.localhost`, which a container resolves to
 * itself, nor wildcards, which Docker's DNS has no form for) as network aliases of the gateway, so
 * that a container of the env fetches `http://web.feat-x.test/` through the gateway as the host
 * does. Keyed by network, each list sorted; shared networks get none.
 */
export function gatewayAliases(state: State, routes: GatewayRoute[] = gatewayRoutes(state), host?: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, rec] of Object.entries(state.envs)) {
    if (rec.host !== host || rec.status !== "running" || !rec.services.some((s) => s.ip && !s.shared)) continue;
    const names = routes
      .filter((r) => r.env === key)
      .flatMap((r) => r.hosts)
      .filter((h) => !h.startsWith("*.") && !h.endsWith(`.${LOCALHOST_TLD}`));
    out[rec.docker_name] = [...new Set(names)].sort();
  }
  return out;
}

/**
 * How the back talks to services: HTTP/1.1 with up to 1,024 idle keep-alive connections per
 * upstream (docs/routing.md, "What the gateway costs"). Caddy's default keeps 32, so with more
 * requests in flight than that to one service it closes and redials the rest: at 50 connections
 * about 1,300 new upstream connections in 3 s (13% of requests), none with this pool. The idle
 * and probe times are Caddy's defaults, written out because naming `keep_alive` drops them.
 */
const UPSTREAM_TRANSPORT = {
  protocol: "http",
  keep_alive: { max_idle_conns_per_host: 1024, idle_timeout: "2m", probe_interval: "30s" },
} as const;

/** The placeholder the fast path's map sets: the upstream of the request's exact name, else "". */
const UPSTREAM_VAR = "cilo.upstream";

/**
 * The fast path for exact names (docs/routing.md, "What the gateway costs"): Caddy tries routes
 * one by one and compares the Host with every name of each, so with many envs a request paid for
 * every route before its own (500 routes ahead: 68-78 -> 192-212 CPU-µs per request). Here one
 * `map` from name to upstream (string comparisons only) and one `reverse_proxy` that dials what it
 * found come first; a name it does not hold word for word (a wildcard, a down env, another letter
 * case, an unknown name) falls through to the routes below, which answer as before and which
 * Caddy also reads for the certificate names.
 */
function fastRoutes(routes: GatewayRoute[]): object[] {
  const seen = new Set<string>();
  const mappings: { input: string; outputs: string[] }[] = [];
  for (const r of routes) {
    if (r.upstream === undefined) continue;
    for (const h of r.hosts) {
      const name = h.toLowerCase();
      if (h.startsWith("*.") || seen.has(name)) continue;
      seen.add(name);
      mappings.push({ input: name, outputs: [r.upstream] });
    }
  }
  if (mappings.length === 0) return [];
  return [
    { handle: [{ handler: "map", source: "{http.request.host}", destinations: [`{${UPSTREAM_VAR}}`], mappings, defaults: [""] }] },
    {
      match: [{ expression: `{${UPSTREAM_VAR}} != ''` }],
      handle: [{ handler: "reverse_proxy", upstreams: [{ dial: `{${UPSTREAM_VAR}}` }], transport: UPSTREAM_TRANSPORT }],
      terminal: true,
    },
  ];
}

/**
 * The gateway's Caddy config (JSON) for a routing table: one HTTP server on port 80 of the
 * container, a route per entry (reverse proxy, or a 503 page naming the env and the command that
 * starts it), a 404 page for a name no env has, and a short page when an upstream does not answer.
 * With `tls`, the same routes over HTTPS too (render-tls.ts). Deterministic: the same routes give
 * the same bytes.
 */
export function renderGatewayConfig(routes: GatewayRoute[], tls?: GatewayTls): string {
  const text = { "Content-Type": ["text/plain; charset=utf-8"], "Cache-Control": ["no-store"] };
  const handlers = routes.map((r) => ({
    match: [{ host: r.hosts }],
    handle: [
      r.upstream !== undefined
        ? // No flush_interval -1: in Caddy 2.6 it ties each proxied request to the config's lifetime, so
          // a reload cut requests in flight (502) and could crash Caddy ("missing cancel error").
          // Server-sent events and chunked responses are still flushed at once (Caddy does that).
          { handler: "reverse_proxy", upstreams: [{ dial: r.upstream }], transport: UPSTREAM_TRANSPORT }
        : { handler: "static_response", status_code: 503, headers: text, body: `cilo: ${r.down}\n` },
    ],
    terminal: true,
  }));
  const config = {
    admin: { listen: "localhost:2019" },
    logging: { logs: { default: { level: "ERROR" } } },
    apps: {
      http: {
        servers: {
          cilo: {
            // The front (front.ts) owns the published port and hands requests over this socket.
            listen: [`unix/${GATEWAY_BACK_SOCKET}`],
            automatic_https: { disable: true },
            routes: [
              ...fastRoutes(routes),
              ...handlers,
              {
                handle: [
                  {
                    handler: "static_response",
                    status_code: 404,
                    headers: text,
                    body: "cilo: no env answers to the name {http.request.host}. List envs with: cilo list\n",
                  },
                ],
              },
            ],
            errors: {
              routes: [
                {
                  handle: [
                    {
                      handler: "static_response",
                      status_code: "{http.error.status_code}",
                      headers: text,
                      body: "cilo: {http.request.host} did not answer ({http.error.status_code}); is its service listening on the port cilo routes to? See cilo status\n",
                    },
                  ],
                },
              ],
            },
          },
        },
      },
    },
  };
  if (tls) addTls(config, tls);
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** `http://<host>[:port]/` for a name the gateway answers on the given loopback port. */
export function gatewayUrl(host: string, httpPort: number): string {
  return `http://${host}${httpPort === 80 ? "" : `:${httpPort}`}/`;
}
