import { CiloError, ExitCode } from "../errors.ts";
import { composeProjectName, envLabels, envNetworkName, LABEL_SERVICE } from "../labels.ts";
import { stringifyComposeYaml } from "./compose-yaml.ts";

export interface TransformInput {
  /** The parsed output of `docker-compose config` (1.29 shape) or `docker compose config` (v2 shape). */
  model: Record<string, unknown>;
  project: string;
  env: string;
  /** The env's subnet, e.g. "10.224.3.0/24". */
  subnet: string;
  /**
   * Compose profiles enabled for the env ("*" enables all). Services of other profiles are left
   * out and the `profiles` key of the rest is dropped, so the rendered file runs without `--profile`.
   */
  profiles?: string[];
}

export interface TransformResult {
  model: Record<string, unknown>;
  /** Deterministic YAML text of `model`, accepted by compose 1.29 and v2. */
  yaml: string;
  /** The names of the services the rendered file runs, sorted. */
  services: string[];
}

type Mapping = Record<string, unknown>;

interface Scope {
  project: string;
  env: string;
  labels: Record<string, string>;
  /** The prefix compose v2 gives names it made up itself (`<name>_`), when the model says. */
  implicitPrefix: string | undefined;
}

/**
 * Turns a resolved compose model into the one cilo runs for an env (SPEC §3 "Compose model"):
 * no host ports, no container names, every service on the env network (the `default` network,
 * renamed to the env's and given its subnet), explicitly named networks and volumes scoped to the
 * env, cilo labels on services, networks and volumes, only the services of the enabled profiles.
 * Pure: the input is not changed.
 */
export function transformCompose(input: TransformInput): TransformResult {
  const model = structuredClone(input.model);
  const scope: Scope = {
    project: input.project,
    env: input.env,
    labels: envLabels(input.project, input.env),
    implicitPrefix: typeof model["name"] === "string" ? `${model["name"]}_` : undefined,
  };
  delete model["name"];

  const enabled = new Set(input.profiles ?? []);
  const services = mappingOf(model["services"] ?? {}, "services");
  for (const [name, value] of Object.entries(services)) {
    const service = mappingOf(value, `service "${name}"`);
    if (isEnabled(name, service["profiles"], enabled)) transformService(name, service, scope.labels);
    else delete services[name];
  }
  model["services"] = services;

  const networks = scopeResources(mappingOf(model["networks"] ?? {}, "networks"), "network", scope);
  networks["default"] = {
    driver: "bridge",
    ipam: { config: [{ subnet: input.subnet }] },
    labels: scope.labels,
    name: envNetworkName(input.project, input.env),
  };
  model["networks"] = networks;

  if (model["volumes"] !== undefined) {
    model["volumes"] = scopeResources(mappingOf(model["volumes"], "volumes"), "volume", scope);
  }

  return { model, yaml: stringifyComposeYaml(model), services: Object.keys(services).sort() };
}

/** A service's labels as a mapping, whether the model lists them (`["a=b"]`) or maps them. */
export function serviceLabelsOf(model: Record<string, unknown>, service: string): Record<string, string> {
  const services = model["services"];
  const definition = isMapping(services) ? services[service] : undefined;
  return isMapping(definition) ? labelMap(definition["labels"], `service "${service}"`) : {};
}

function isEnabled(service: string, profiles: unknown, enabled: Set<string>): boolean {
  if (profiles === undefined || profiles === null) return true;
  if (!Array.isArray(profiles) || !profiles.every((p) => typeof p === "string")) {
    throw invalid(`service "${service}"`, "profiles must list profile names");
  }
  return profiles.length === 0 || enabled.has("*") || profiles.some((p) => enabled.has(p));
}

function transformService(name: string, service: Mapping, envLabelSet: Record<string, string>): void {
  delete service["profiles"];
  delete service["ports"];
  delete service["container_name"];
  if (service["network_mode"] !== undefined && !keepsNetworkMode(name, service["network_mode"])) {
    delete service["network_mode"];
  }
  if (service["networks"] !== undefined) service["networks"] = withEnvNetwork(name, service["networks"]);
  service["labels"] = { ...labelMap(service["labels"], `service "${name}"`), ...envLabelSet, [LABEL_SERVICE]: name };
}

/** Whether a service's `network_mode` stays; refuses the modes that would leave the env. */
function keepsNetworkMode(service: string, mode: unknown): boolean {
  if (typeof mode !== "string") throw invalid(`service "${service}"`, "network_mode must be a string");
  if (mode === "bridge" || mode === "default") return false;
  if (mode === "none" || mode.startsWith("service:") || mode.startsWith("container:")) return true;
  if (mode === "host") {
    throw new CiloError("E_NETWORK_MODE", `Service "${service}" uses network_mode: host, which defeats isolation`, {
      exitCode: ExitCode.usage,
      hint: "Remove network_mode: host; cilo gives every service its own address on the env network",
    });
  }
  throw new CiloError(
    "E_NETWORK_MODE",
    `Service "${service}" uses network_mode: ${mode}, which joins a network outside the env`,
    { exitCode: ExitCode.usage, hint: "Attach the service with networks: instead" },
  );
}

/**
 * A service's `networks` (list or mapping) as a mapping that includes `default`, the env network.
 * Fixed addresses on `default` are dropped: they cannot lie in the env's subnet.
 */
function withEnvNetwork(service: string, networks: unknown): Mapping {
  const where = `service "${service}"`;
  const out: Mapping = {};
  if (Array.isArray(networks)) {
    for (const network of networks) {
      if (typeof network !== "string") throw invalid(where, "networks must list network names");
      out[network] = null;
    }
  } else {
    Object.assign(out, mappingOf(networks, `${where} networks`));
  }
  const attachment = out["default"];
  if (isMapping(attachment)) {
    const { ipv4_address: _v4, ipv6_address: _v6, ...rest } = attachment;
    out["default"] = rest;
  } else {
    out["default"] = attachment ?? null;
  }
  return out;
}

/** Labels and env-scoped names for the non-external top-level networks or volumes. */
function scopeResources(resources: Mapping, kind: "network" | "volume", scope: Scope): Mapping {
  for (const [key, value] of Object.entries(resources)) {
    const resource = value === null ? {} : mappingOf(value, `${kind} "${key}"`);
    if (isExternal(resource)) continue;
    const name = resource["name"];
    if (typeof name === "string") {
      if (scope.implicitPrefix !== undefined && name === `${scope.implicitPrefix}${key}`) delete resource["name"];
      else resource["name"] = `${composeProjectName(scope.project, scope.env)}_${name}`;
    }
    resource["labels"] = { ...labelMap(resource["labels"], `${kind} "${key}"`), ...scope.labels };
    resources[key] = resource;
  }
  return resources;
}

/** `external: true`, or the older `external: {name: x}`. */
function isExternal(resource: Mapping): boolean {
  return resource["external"] === true || isMapping(resource["external"]);
}

function labelMap(labels: unknown, where: string): Record<string, string> {
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

function isMapping(value: unknown): value is Mapping {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function mappingOf(value: unknown, where: string): Mapping {
  if (!isMapping(value)) throw invalid(where, "must be a mapping");
  return value;
}

function invalid(where: string, what: string): CiloError {
  return new CiloError("E_COMPOSE_INVALID", `In the compose model, ${where}: ${what}`, { exitCode: ExitCode.usage });
}
