import { ipVersion } from "../ip.ts";
import { ENGINES, isEngine } from "../engine.ts";
import { isAbsolute } from "node:path";
import { isDnsName, isHostLabel, isServiceName, parseDnsSuffix, shown } from "../dns-names.ts";
import { envDockerName, HOME_ID_PATTERN, legacyEnvDockerName, legacySharedDockerName, sharedDockerName } from "../labels.ts";
import { parseCidr } from "../cidr.ts";
import { ENV_STATUSES, ROUTING_MODES, type State } from "./schema.ts";
import { isImageReference } from "../image-ref.ts";
import { isRecord } from "../is-record.ts";
import { parseForwardRange } from "../port-range.ts";
import { hostRecordProblems, remoteWorkspaceProblem } from "../host-address.ts";

/** A forward's service reaches a shell script in the forward container: a compose service name only. */
function forwardProblems(key: string, forwards: unknown): string[] {
  if (forwards === undefined) return [];
  if (!Array.isArray(forwards)) return [`env ${shown(key)} has forwards that are not a list`];
  const out: string[] = [];
  for (const f of forwards) {
    const ok =
      isRecord(f) &&
      typeof f["service"] === "string" &&
      /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(f["service"]) &&
      isInt(f["port"], 1, 65535) &&
      isInt(f["host_port"], 1, 65535) &&
      typeof f["address"] === "string" &&
      ipVersion(f["address"]) === 4;
    if (!ok) out.push(`env ${shown(key)} has a forward that is not a service, port, IPv4 address and host port`);
  }
  return out;
}

/**
 * Checks the shape of a (migrated) state and the invariants across envs: key matches
 * project/name, no two envs share a subnet, workspace paths are absolute (whether a workspace
 * lies in the home is judged by `cilo doctor` and before any deletion: see destroy-workspace.ts). Returns the problems found, empty when valid.
 * The store checks the same in parts (`homeProblems`, `envRecordProblems`, `subnetProblems`), so
 * that one env's change is checked without reading every env (docs/state.md, "Layout").
 */
export function validateState(value: unknown): string[] {
  if (!isRecord(value)) return ["the top level is not an object"];
  const s = value as Partial<State>;
  const problems = homeProblems(s);
  if (!isRecord(s.envs)) {
    problems.push("`envs` is missing or not an object");
    return problems;
  }
  const homeId = homeIdOf(s);
  const owners: SubnetOwner[] = [];
  for (const [key, env] of Object.entries(s.envs)) {
    problems.push(...envRecordProblems(key, env, homeId, s.hosts));
    if (isRecord(env)) owners.push(...envSubnets(key, env));
  }
  problems.push(...subnetProblems(owners, s.shared));
  return problems;
}

function homeIdOf(s: Partial<State>): string | undefined {
  return typeof s.home_id === "string" && HOME_ID_PATTERN.test(s.home_id) ? s.home_id : undefined;
}

/** Everything but the envs: version, home id, config, hosts, the shape of shared instances. */
export function homeProblems(s: Partial<State>): string[] {
  const problems: string[] = [];
  if (typeof s.version !== "number") problems.push("`version` is missing or not a number");
  const homeId = homeIdOf(s);
  if (!homeId) problems.push("`home_id` is missing or not 6 to 32 lower-case letters and digits");
  const c = s.config;
  if (!isRecord(c)) {
    problems.push("`config` is missing");
  } else {
    if (typeof c.subnet_pool !== "string" || parseCidr(c.subnet_pool) === undefined) problems.push("`config.subnet_pool` is not a CIDR");
    if (!isInt(c.subnet_size, 8, 30)) problems.push("`config.subnet_size` is not an integer from 8 to 30");
    if (!isInt(c.dns_port, 1, 65535)) problems.push("`config.dns_port` is not a port number");
    if (typeof c.dns_suffix !== "string" || c.dns_suffix.length === 0) problems.push("`config.dns_suffix` is missing");
    else if ("why" in parseDnsSuffix(c.dns_suffix)) problems.push(`\`config.dns_suffix\` ${shown(c.dns_suffix)} is not a DNS suffix`);
    if (c.gateway_http_port !== undefined && !isInt(c.gateway_http_port, 1, 65535)) problems.push("`config.gateway_http_port` is not a port number");
    if (c.gateway_https_port !== undefined && !isInt(c.gateway_https_port, 1, 65535)) problems.push("`config.gateway_https_port` is not a port number");
    if (c.gateway_image !== undefined && !isImageReference(c.gateway_image))
      problems.push(`\`config.gateway_image\` ${shown(c.gateway_image)} is not an image reference`);
    if (c.forward_ports !== undefined && (typeof c.forward_ports !== "string" || !parseForwardRange(c.forward_ports)))
      problems.push(`\`config.forward_ports\` ${shown(String(c.forward_ports))} is not a port range such as 15000-15999`);
    if (c.engine !== undefined && !isEngine(c.engine)) problems.push(`\`config.engine\` ${shown(String(c.engine))} is not one of ${ENGINES.join(", ")}`);
    if (c.routing !== undefined && !ROUTING_MODES.includes(c.routing))
      problems.push(`\`config.routing\` ${shown(c.routing)} is not one of ${ROUTING_MODES.join(", ")}`);
    const probe = c.routing_probe;
    if (
      probe !== undefined &&
      !(
        isRecord(probe) &&
        typeof probe.endpoint === "string" &&
        typeof probe.reachable === "boolean" &&
        typeof probe.target === "string" &&
        typeof probe.at === "string"
      )
    )
      problems.push("`config.routing_probe` is not {endpoint, reachable, target, at}");
  }
  const hosts = s.hosts;
  if (hosts !== undefined) {
    if (!isRecord(hosts)) problems.push("`hosts` is not an object");
    else for (const [name, rec] of Object.entries(hosts)) problems.push(...hostRecordProblems(name, rec));
  }
  if (s.shared !== undefined) {
    if (!isRecord(s.shared)) {
      problems.push("`shared` is not an object");
    } else {
      for (const [project, inst] of Object.entries(s.shared)) {
        if (!isRecord(inst) || typeof inst.subnet !== "string" || parseCidr(inst.subnet) === undefined || !isRecord(inst.services)) {
          problems.push(`shared instance "${project}" is malformed`);
          continue;
        }
        if (homeId && inst.network !== sharedDockerName(homeId, project) && inst.network !== legacySharedDockerName(project)) {
          problems.push(`shared instance "${project}" has a network name that is not this home's name for it`);
        }
      }
    }
  }
  return problems;
}

/** Whether `host` (an env's) names a recorded host; absent is the local engine. */
export function hostProblems(key: string, host: unknown, hosts: unknown): string[] {
  if (host !== undefined && !(typeof host === "string" && isRecord(hosts) && Object.hasOwn(hosts, host)))
    return [`env ${shown(key)} names the host ${shown(String(host))}, which is not a recorded host (cilo host list)`];
  return [];
}

/** One env's record on its own (its subnets' uniqueness is `subnetProblems`'s). */
export function envRecordProblems(key: string, value: unknown, homeId: string | undefined, hosts: unknown): string[] {
  const problems: string[] = [];
  if (!isRecord(value)) return [`env "${key}" is not an object`];
  const env = value as Record<string, any>;
  if (key !== `${env.project}/${env.name}`) problems.push(`env ${shown(key)} has project/name ${shown(`${env.project}/${env.name}`)}`);
  else if (!isHostLabel(env.project) || !isHostLabel(env.name)) problems.push(`env ${shown(key)} has a project or env name that is not a DNS label`);
  if (!ENV_STATUSES.includes(env.status)) problems.push(`env ${shown(key)} has unknown status ${shown(String(env.status))}`);
  if (env.engine !== undefined && !isEngine(env.engine))
    problems.push(`env ${shown(key)} has the engine ${shown(String(env.engine))}, not one of ${ENGINES.join(", ")}`);
  if (env.dns_suffix !== undefined && "why" in parseDnsSuffix(env.dns_suffix))
    problems.push(`env ${shown(key)} has the dns_suffix ${shown(env.dns_suffix)}, which is not a DNS suffix`);
  problems.push(...hostProblems(key, env.host, hosts));
  if (env.remote_workspace !== undefined && (env.host === undefined || remoteWorkspaceProblem(env.remote_workspace, env.project, env.name)))
    problems.push(`env ${shown(key)} has a remote_workspace that is not <remote root>/${env.project}/${env.name} on its host`);
  problems.push(...dnsProblems(key, env));
  problems.push(...forwardProblems(key, env.forwards));
  if (typeof env.subnet !== "string" || parseCidr(env.subnet) === undefined) problems.push(`env "${key}" has no valid subnet`);
  if (env.extra_subnets !== undefined) {
    if (!isRecord(env.extra_subnets)) {
      problems.push(`env "${key}" has an invalid extra_subnets map`);
    } else {
      for (const [network, subnet] of Object.entries(env.extra_subnets)) {
        if (typeof subnet !== "string" || parseCidr(subnet) === undefined) problems.push(`env "${key}" has no valid subnet for network "${network}"`);
      }
    }
  }
  if (typeof env.workspace !== "string") problems.push(`env "${key}" has no workspace path`);
  else if (!isAbsolute(env.workspace) || env.workspace.includes("\0")) problems.push(`env ${shown(key)} has a workspace path that is not absolute`);
  // Docker names are what compose down and label sweeps act on: only this home's own two forms.
  if (
    homeId &&
    env.docker_name !== envDockerName(homeId, String(env.project), String(env.name)) &&
    env.docker_name !== legacyEnvDockerName(String(env.project), String(env.name))
  ) {
    problems.push(`env ${shown(key)} has a docker_name that is not this home's name for it`);
  }
  if (env.shared_networks !== undefined && !Array.isArray(env.shared_networks)) problems.push(`env "${key}" has an invalid shared_networks list`);
  if (!Array.isArray(env.services)) problems.push(`env "${key}" has no services list`);
  return problems;
}

/**
 * A subnet an env holds: its own (`network` absent) or one for a network with a fixed subnet, on
 * the engine of `host` (absent: the local engine).
 */
export interface SubnetOwner {
  key: string;
  subnet: string;
  network?: string;
  host?: string;
}

/** The valid subnets an env record (or its index entry) holds. */
export function envSubnets(key: string, env: { subnet?: unknown; extra_subnets?: unknown; host?: unknown }): SubnetOwner[] {
  const out: SubnetOwner[] = [];
  const on = typeof env.host === "string" ? { host: env.host } : {};
  if (typeof env.subnet === "string" && parseCidr(env.subnet) !== undefined) out.push({ key, subnet: env.subnet, ...on });
  if (isRecord(env.extra_subnets))
    for (const [network, subnet] of Object.entries(env.extra_subnets))
      if (typeof subnet === "string" && parseCidr(subnet) !== undefined) out.push({ key, subnet, network, ...on });
  return out;
}

/**
 * No two envs (own or extra subnets) or shared instances share a subnet on one engine. Subnets
 * are allocated per host (docs/remote.md): envs on two hosts may each use one. Shared instances run
 * on the local engine.
 */
export function subnetProblems(owners: Iterable<SubnetOwner>, shared: unknown): string[] {
  const problems: string[] = [];
  const subnets = new Map<string, string>();
  for (const o of owners) {
    // Subnets are unique per engine. No template string for the usual owner on the local engine: this runs over every env.
    const at = o.host === undefined ? o.subnet : `${o.host} ${o.subnet}`;
    const other = subnets.get(at);
    if (o.network === undefined) {
      if (other !== undefined) problems.push(`envs "${other}" and "${o.key}" share subnet ${o.subnet}`);
      subnets.set(at, o.key);
    } else {
      if (other !== undefined) problems.push(`"${other}" and network "${o.network}" of env "${o.key}" share subnet ${o.subnet}`);
      subnets.set(at, `${o.key} (network ${o.network})`);
    }
  }
  if (isRecord(shared)) {
    for (const [project, inst] of Object.entries(shared)) {
      if (!isRecord(inst) || typeof inst.subnet !== "string" || parseCidr(inst.subnet) === undefined) continue;
      const at = inst.subnet;
      const other = subnets.get(at);
      if (other !== undefined) problems.push(`"${other}" and the shared instance of "${project}" share subnet ${inst.subnet}`);
      subnets.set(at, `shared:${project}`);
    }
  }
  return problems;
}

/** Service names, addresses and custom hostnames: they become lines of dnsmasq's files. */
function dnsProblems(key: string, env: Record<string, any>): string[] {
  const out: string[] = [];
  const names = (v: unknown) => Array.isArray(v) && v.every((n) => typeof n === "string" && isDnsName(n));
  for (const svc of Array.isArray(env.services) ? env.services : []) {
    if (!isRecord(svc) || !isServiceName(svc.name)) {
      out.push(`env ${shown(key)} has a service named ${shown(isRecord(svc) ? svc.name : svc)}, which is not a service name`);
      continue;
    }
    if (svc.ip !== undefined && (typeof svc.ip !== "string" || ipVersion(svc.ip) === 0))
      out.push(`env ${shown(key)} has the address ${shown(svc.ip)} for ${svc.name}, which is not an IP address`);
    if (svc.hostnames !== undefined && !names(svc.hostnames)) out.push(`env ${shown(key)} has a hostname of ${svc.name} that is not a DNS name`);
    if (svc.port !== undefined && !isInt(svc.port, 1, 65535))
      out.push(`env ${shown(key)} has the port ${shown(svc.port)} for ${svc.name}, which is not a port number`);
    if (svc.ports !== undefined && !(Array.isArray(svc.ports) && svc.ports.every((p: unknown) => isInt(p, 1, 65535))))
      out.push(`env ${shown(key)} has a ports list for ${svc.name} that is not port numbers`);
  }
  if (env.hostnames !== undefined) {
    if (!isRecord(env.hostnames)) out.push(`env ${shown(key)} has an invalid hostnames map`);
    else
      for (const [svc, list] of Object.entries(env.hostnames)) {
        if (!isServiceName(svc) || !names(list)) out.push(`env ${shown(key)} has a custom hostname of ${shown(svc)} that is not a DNS name`);
      }
  }
  return out;
}

function isInt(v: unknown, min: number, max: number): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
}
