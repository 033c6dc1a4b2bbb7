import type { CiloContext } from "../../core/context/context.ts";
import { usageError } from "../../core/errors.ts";
import { parseCidr } from "../../core/cidr.ts";
import { poolCapacity } from "../../core/network/subnet-pool.ts";
import { statePath } from "../../core/paths.ts";
import { ROUTING_MODES, type RoutingMode, type StateConfig } from "../../core/state/schema.ts";
import { isImageReference } from "../../core/image-ref.ts";
import { DEFAULT_GATEWAY_HTTP_PORT, DEFAULT_GATEWAY_HTTPS_PORT, DEFAULT_GATEWAY_IMAGE } from "../../core/gateway/gateway.ts";
import { initState } from "../../core/state/store.ts";
import { dnsSuffix } from "../../core/dns-names.ts";
import { DEFAULT_FORWARD_RANGE, parseForwardRange } from "../../core/forward/ports.ts";
import { printJson, println } from "../output.ts";
import { ENGINES, isEngine } from "../../core/engine.ts";

interface InitOptions {
  subnetPool?: string;
  subnetSize?: string | number;
  dnsPort?: string | number;
  dnsSuffix?: string;
  gatewayHttpPort?: string | number;
  gatewayHttpsPort?: string | number;
  gatewayImage?: string;
  routing?: string;
  forwardPorts?: string;
  engine?: string;
  json?: boolean;
}

export default async function init(ctx: CiloContext, opts: InitOptions): Promise<number> {
  const changes = parseInitOptions(opts);
  const { created, state } = await initState(ctx, changes);
  if (opts.json) {
    printJson({ created, state_file: statePath(ctx.home), config: state.config });
    return 0;
  }
  const c = state.config;
  println(`${created ? "Initialised" : "Already initialised:"} ${statePath(ctx.home)}`);
  println(`  subnet pool  ${c.subnet_pool} in /${c.subnet_size}s (${poolCapacity(c.subnet_pool, c.subnet_size)} envs)`);
  println(`  dns          127.0.0.1:${c.dns_port}, suffix .${c.dns_suffix}`);
  println(
    `  gateway      http port ${c.gateway_http_port ?? DEFAULT_GATEWAY_HTTP_PORT}, https port ${c.gateway_https_port ?? DEFAULT_GATEWAY_HTTPS_PORT}, image ${c.gateway_image ?? DEFAULT_GATEWAY_IMAGE}, routing ${c.routing ?? "auto"}`,
  );
  println(`  tcp forwards ports ${c.forward_ports ?? DEFAULT_FORWARD_RANGE}`);
  println(`  engine       ${c.engine ?? "detected (docker or podman, from the endpoint's /_ping)"}`);
  return 0;
}

export function parseInitOptions(opts: InitOptions): Partial<StateConfig> {
  const changes: Partial<StateConfig> = {};
  if (opts.subnetPool !== undefined) {
    const c = parseCidr(String(opts.subnetPool));
    if (!c || c.prefix > 30) throw usageError(`--subnet-pool "${opts.subnetPool}" is not an IPv4 CIDR such as 10.224.0.0/12`);
    changes.subnet_pool = String(opts.subnetPool);
  }
  if (opts.subnetSize !== undefined) {
    const n = Number(String(opts.subnetSize).replace(/^\//, ""));
    if (!Number.isInteger(n) || n < 8 || n > 30) throw usageError(`--subnet-size "${opts.subnetSize}" must be a prefix length from 8 to 30`);
    changes.subnet_size = n;
  }
  if (opts.dnsPort !== undefined) {
    const n = Number(opts.dnsPort);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw usageError(`--dns-port "${opts.dnsPort}" is not a port number`);
    changes.dns_port = n;
  }
  if (opts.dnsSuffix !== undefined) {
    changes.dns_suffix = dnsSuffix(String(opts.dnsSuffix), "--dns-suffix");
  }
  for (const [flag, key, value] of [
    ["--gateway-http-port", "gateway_http_port", opts.gatewayHttpPort],
    ["--gateway-https-port", "gateway_https_port", opts.gatewayHttpsPort],
  ] as const) {
    if (value === undefined) continue;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw usageError(`${flag} "${value}" is not a port number`);
    changes[key] = n;
  }
  if (opts.gatewayImage !== undefined) {
    if (!isImageReference(String(opts.gatewayImage))) throw usageError(`--gateway-image "${opts.gatewayImage}" is not an image reference such as caddy:2`);
    changes.gateway_image = String(opts.gatewayImage);
  }
  if (opts.routing !== undefined) {
    const mode = String(opts.routing) as RoutingMode;
    if (!ROUTING_MODES.includes(mode)) throw usageError(`--routing "${opts.routing}" must be one of ${ROUTING_MODES.join(", ")}`);
    changes.routing = mode;
  }
  if (opts.forwardPorts !== undefined) {
    const r = parseForwardRange(String(opts.forwardPorts));
    if (!r) throw usageError(`--forward-ports "${opts.forwardPorts}" is not a port range such as 15000-15999`);
    changes.forward_ports = `${r.first}-${r.last}`;
  }
  if (opts.engine !== undefined) {
    const engine = String(opts.engine);
    if (!isEngine(engine)) throw usageError(`--engine "${opts.engine}" must be one of ${ENGINES.join(", ")}`);
    changes.engine = engine;
  }
  const pool = changes.subnet_pool;
  const size = changes.subnet_size;
  if (pool !== undefined && size !== undefined && poolCapacity(pool, size) === 0) {
    throw usageError(`A /${size} subnet does not fit in the pool ${pool}`);
  }
  return changes;
}
