import { CiloError, ExitCode } from "../errors.ts";
import { cidrSize, formatCidr, formatIPv4, parseCidr, parseIPv4, type Cidr } from "../cidr.ts";
import { invalid, isMapping, type Mapping } from "./model-shape.ts";

/**
 * The project's own networks (not `default`, not external) that fix an IPv4 subnet in
 * `ipam.config`, sorted. Two envs cannot both have such a subnet (Docker: "Pool overlaps"), so
 * each env gets one of its own from cilo's pool. A network that fixes an IPv6 subnet, or more than
 * one subnet, cannot be re-addressed that way: refused with exit 2, naming the network.
 */
export function fixedSubnetNetworks(model: Record<string, unknown>): string[] {
  const networks = model["networks"];
  if (!isMapping(networks)) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(networks)) {
    if (key === "default" || !isMapping(value) || isExternal(value)) continue;
    const subnets = ipamConfigs(key, value).flatMap((c) => (c["subnet"] === undefined ? [] : [String(c["subnet"])]));
    if (subnets.length === 0) continue;
    const v6 = subnets.find((sub) => sub.includes(":"));
    if (v6) {
      throw cannot(key, `fixes the IPv6 subnet ${v6} in ipam, which cilo cannot give each env a copy of`);
    }
    if (subnets.length > 1) throw cannot(key, `fixes ${subnets.length} subnets in ipam (${subnets.join(", ")}); cilo re-addresses one subnet per network`);
    if (!parseCidr(subnets[0]!)) throw invalid(`network "${key}"`, `ipam subnet "${subnets[0]}" is not an IPv4 CIDR`);
    out.push(key);
  }
  return out.sort();
}

/**
 * Re-addresses every network of `fixedSubnetNetworks` into the env's subnet for it (`allocated`,
 * by network key): the ipam subnet is replaced, and a fixed `gateway`, `ip_range`, `aux_addresses`
 * and services' `ipv4_address` on it keep their host offset (172.28.5.10 in 172.28.5.0/24 becomes
 * 10.224.7.10 in 10.224.7.0/24). An address whose offset does not fit the new subnet is refused
 * with exit 2. Changes `networks` and `services` in place.
 */
export function readdressNetworks(networks: Mapping, services: Mapping, allocated: Record<string, string>): void {
  for (const key of fixedSubnetNetworks({ networks })) {
    const network = networks[key] as Mapping;
    const ipam = network["ipam"] as Mapping;
    const entry = ipamConfigs(key, network).find((c) => c["subnet"] !== undefined)!;
    const from = parseCidr(String(entry["subnet"]))!;
    const to = allocated[key] === undefined ? undefined : parseCidr(allocated[key]!);
    if (!to) {
      throw new CiloError("E_SUBNET_NOT_ALLOCATED", `No subnet of the env was allocated for network "${key}", which fixes ${formatCidr(from)} in ipam`);
    }
    const where = `network "${key}"`;
    const of = `of ${where}`;
    const out: Mapping = { ...entry, subnet: formatCidr(to) };
    if (entry["gateway"] !== undefined) out["gateway"] = moveAddress(entry["gateway"], from, to, `the gateway ${of}`);
    if (entry["ip_range"] !== undefined) out["ip_range"] = moveRange(entry["ip_range"], from, to, `the ip_range ${of}`);
    if (isMapping(entry["aux_addresses"])) {
      out["aux_addresses"] = Object.fromEntries(
        Object.entries(entry["aux_addresses"]).map(([host, ip]) => [host, moveAddress(ip, from, to, `aux_addresses.${host} ${of}`)]),
      );
    }
    network["ipam"] = { ...ipam, config: [out] };
    for (const [name, service] of Object.entries(services)) {
      const attached = isMapping(service) && isMapping(service["networks"]) ? service["networks"][key] : undefined;
      if (isMapping(attached) && attached["ipv4_address"] !== undefined) {
        attached["ipv4_address"] = moveAddress(attached["ipv4_address"], from, to, `the ipv4_address of service "${name}" on ${where}`);
      }
    }
  }
}

/** The same host offset in `to` as `ip` has in `from`; refused when it does not fit. */
function moveAddress(ip: unknown, from: Cidr, to: Cidr, where: string): string {
  const n = typeof ip === "string" ? parseIPv4(ip) : undefined;
  if (n === undefined) throw invalid(where.replace(/^the /, ""), `"${String(ip)}" is not an IPv4 address`);
  const offset = n - from.base;
  if (offset <= 0 || offset >= cidrSize(from.prefix) - 1 || offset >= cidrSize(to.prefix) - 1) {
    throw fit(where, String(ip), from, to);
  }
  return formatIPv4(to.base + offset);
}

function moveRange(range: unknown, from: Cidr, to: Cidr, where: string): string {
  const r = typeof range === "string" ? parseCidr(range) : undefined;
  if (!r) throw invalid(where.replace(/^the /, ""), `"${String(range)}" is not an IPv4 CIDR`);
  const offset = r.base - from.base;
  if (r.prefix < to.prefix || offset < 0 || offset + cidrSize(r.prefix) > cidrSize(to.prefix)) throw fit(where, String(range), from, to);
  return formatCidr({ base: to.base + offset, prefix: r.prefix });
}

function fit(where: string, value: string, from: Cidr, to: Cidr): CiloError {
  return new CiloError(
    "E_NETWORK_READDRESS",
    `Cannot re-address ${where} (${value}): its offset in ${formatCidr(from)} does not fit the env's subnet ${formatCidr(to)}`,
    {
      exitCode: ExitCode.usage,
      hint: `Use an address within the first /${to.prefix} of the ipam subnet, or leave the address out so Docker picks one`,
    },
  );
}

function cannot(key: string, why: string): CiloError {
  return new CiloError("E_NETWORK_READDRESS", `Network "${key}" ${why}`, {
    exitCode: ExitCode.usage,
    hint: "Remove the ipam subnet so that each env's network gets one of its own from cilo's pool",
  });
}

function ipamConfigs(key: string, network: Mapping): Mapping[] {
  const ipam = network["ipam"];
  if (ipam === undefined || ipam === null) return [];
  if (!isMapping(ipam)) throw invalid(`network "${key}"`, "ipam must be a mapping");
  const config = ipam["config"];
  if (config === undefined || config === null) return [];
  if (!Array.isArray(config) || !config.every(isMapping)) throw invalid(`network "${key}"`, "ipam.config must list mappings");
  return config;
}

/** `external: true`, or the older `external: {name: x}`. */
function isExternal(resource: Mapping): boolean {
  return resource["external"] === true || isMapping(resource["external"]);
}
