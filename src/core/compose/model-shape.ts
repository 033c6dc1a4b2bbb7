import { isRecord } from "../is-record.ts";
import { CiloError, ExitCode } from "../errors.ts";

/**
 * Small readers of a resolved compose model's shape, shared by the transform and by code that only
 * reads a model (labels of services). Free of the YAML library, so read-only commands stay light.
 */
export type Mapping = Record<string, unknown>;

/** A service's labels as a mapping, whether the model lists them (`["a=b"]`) or maps them. */
export function serviceLabelsOf(model: Record<string, unknown>, service: string): Record<string, string> {
  const services = model["services"];
  const definition = isMapping(services) ? services[service] : undefined;
  return isMapping(definition) ? labelMap(definition["labels"], `service "${service}"`) : {};
}

/** A service's `environment` as a mapping, whether the model lists it (`["A=b"]`) or maps it. */
export function serviceEnvironmentOf(model: Record<string, unknown>, service: string): Record<string, string> {
  const services = model["services"];
  const definition = isMapping(services) ? services[service] : undefined;
  return isMapping(definition) ? labelMap(definition["environment"], `service "${service}" environment`) : {};
}

/** Adds variables to a service's `environment`, in the form (list or mapping) it has. */
export function addEnvironment(service: Mapping, vars: Record<string, string>): void {
  const environment = service["environment"];
  if (Array.isArray(environment)) service["environment"] = [...environment, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)];
  else service["environment"] = { ...(isMapping(environment) ? environment : {}), ...vars };
}

export function labelMap(labels: unknown, where: string): Record<string, string> {
  if (labels === undefined || labels === null) return {};
  const out: Record<string, string> = {};
  if (Array.isArray(labels)) {
    for (const entry of labels) {
      if (typeof entry !== "string") throw invalid(where, 'labels must be a mapping or a list of "key=value"');
      const eq = entry.indexOf("=");
      if (eq < 0) out[entry] = "";
      else out[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    return out;
  }
  for (const [key, value] of Object.entries(mappingOf(labels, `${where} labels`))) {
    out[key] = value === null || value === undefined ? "" : String(value);
  }
  return out;
}

/** A compose mapping: the same test as `isRecord`. */
export function isMapping(value: unknown): value is Mapping {
  return isRecord(value);
}

export function mappingOf(value: unknown, where: string): Mapping {
  if (!isMapping(value)) throw invalid(where, "must be a mapping");
  return value;
}

export function invalid(where: string, what: string): CiloError {
  return new CiloError("E_COMPOSE_INVALID", `In the compose model, ${where}: ${what}`, { exitCode: ExitCode.usage });
}
