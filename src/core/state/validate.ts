import { isAbsolute } from "node:path";
import { parseCidr } from "../network/cidr.ts";
import { ENV_STATUSES, type State } from "./schema.ts";

/**
 * Checks the shape of a (migrated) state and the invariants across envs: key matches
 * project/name, no two envs share a subnet, workspace paths are absolute (whether a workspace
 * lies in the home is judged by `cilo doctor` and before any deletion: see destroy-workspace.ts). Returns the problems found, empty when valid.
 */
export function validateState(value: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(value)) return ["the top level is not an object"];
  const s = value as Partial<State>;
  if (typeof s.version !== "number") problems.push("`version` is missing or not a number");
  const c = s.config;
  if (!isObject(c)) {
    problems.push("`config` is missing");
  } else {
    if (typeof c.subnet_pool !== "string" || parseCidr(c.subnet_pool) === undefined) problems.push("`config.subnet_pool` is not a CIDR");
    if (!isInt(c.subnet_size, 8, 30)) problems.push("`config.subnet_size` is not an integer from 8 to 30");
    if (!isInt(c.dns_port, 1, 65535)) problems.push("`config.dns_port` is not a port number");
    if (typeof c.dns_suffix !== "string" || c.dns_suffix.length === 0) problems.push("`config.dns_suffix` is missing");
  }
  if (!isObject(s.envs)) {
    problems.push("`envs` is missing or not an object");
    return problems;
  }
  const subnets = new Map<string, string>();
  for (const [key, env] of Object.entries(s.envs)) {
    if (!isObject(env)) {
      problems.push(`env "${key}" is not an object`);
      continue;
    }
    if (key !== `${env.project}/${env.name}`) problems.push(`env "${key}" has project/name "${env.project}/${env.name}"`);
    if (!ENV_STATUSES.includes(env.status)) problems.push(`env "${key}" has unknown status "${String(env.status)}"`);
    if (typeof env.subnet !== "string" || parseCidr(env.subnet) === undefined) {
      problems.push(`env "${key}" has no valid subnet`);
    } else {
      const other = subnets.get(env.subnet);
      if (other !== undefined) problems.push(`envs "${other}" and "${key}" share subnet ${env.subnet}`);
      subnets.set(env.subnet, key);
    }
    if (typeof env.workspace !== "string") problems.push(`env "${key}" has no workspace path`);
    else if (!isAbsolute(env.workspace) || env.workspace.includes("\0")) problems.push(`env "${key}" has a workspace path that is not absolute`);
    if (env.shared_networks !== undefined && !Array.isArray(env.shared_networks)) problems.push(`env "${key}" has an invalid shared_networks list`);
    if (!Array.isArray(env.services)) problems.push(`env "${key}" has no services list`);
  }
  if (s.shared !== undefined) {
    if (!isObject(s.shared)) {
      problems.push("`shared` is not an object");
    } else {
      for (const [project, inst] of Object.entries(s.shared)) {
        if (!isObject(inst) || typeof inst.subnet !== "string" || parseCidr(inst.subnet) === undefined || !isObject(inst.services)) {
          problems.push(`shared instance "${project}" is malformed`);
          continue;
        }
        const other = subnets.get(inst.subnet);
        if (other !== undefined) problems.push(`"${other}" and the shared instance of "${project}" share subnet ${inst.subnet}`);
        subnets.set(inst.subnet, `shared:${project}`);
      }
    }
  }
  return problems;
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isInt(v: unknown, min: number, max: number): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
}
