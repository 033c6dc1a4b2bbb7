import type { EngineKind } from "../engine.ts";
import { CiloError, ExitCode } from "../errors.ts";
import { DEFAULT_CA_BUNDLE_MOUNT, DEFAULT_CA_MOUNT, envLabels, LABEL_CA, LABEL_SERVICE, type HomeRef } from "../labels.ts";
import { readdressNetworks } from "./readdress-networks.ts";
import { stringifyComposeYaml } from "./compose-yaml.ts";
import { addEnvironment, invalid, isMapping, labelMap, mappingOf, type Mapping } from "./model-shape.ts";

export { serviceLabelsOf } from "./model-shape.ts";

export interface TransformInput {
  /** The parsed output of `docker-compose config` (1.29 shape) or `docker compose config` (v2 shape). */
  model: Record<string, unknown>;
  project: string;
  env: string;
  /** The home the env belongs to (its labels). */
  home: HomeRef;
  /** The env's compose project and network name (`EnvRecord.docker_name`). */
  dockerName: string;
  /** The env's subnet, e.g. "10.224.3.0/24". */
  subnet: string;
  /**
   * Compose profiles enabled for the env ("*" enables all). Services of other profiles are left
   * out and the `profiles` key of the rest is dropped, so the rendered file runs without `--profile`.
   */
  profiles?: string[];
  /**
   * Services a project-wide shared instance provides instead (SPEC §8): they are left out of the
   * env, references to them (`depends_on`, `links`) are dropped, and every service joins the
   * shared `network`, where the shared containers answer to their service names.
   */
  shared?: { services: string[]; network: string };
  /** External networks every service joins as well (another env's network, `--shared-network`). */
  joinNetworks?: string[];
  /**
   * Subnets allocated for the env to the project's networks that fix one in `ipam` (see
   * `fixedSubnetNetworks`), by network key. When given, each such network is re-addressed into its
   * subnet (`readdressNetworks`) and one without an allocated subnet is refused; when absent, fixed
   * subnets are left as written.
   */
  networkSubnets?: Record<string, string>;
  /**
   * The host paths of this home's CA certificate and of the bundle (the host's CAs plus cilo's
   * root), mounted read-only into services labelled `cilo.ca` (LABEL_CA). Absent (no gateway, or
   * an engine that cannot bind host files): the label is left without effect.
   */
  ca?: { cert: string; bundle: string };
  /** Variables every service of the env gets in its `environment` (e.g. `CILO_DB_*` of per-env databases). */
  environment?: Record<string, string>;
  /** The engine the file is for (`podman`: see `engineNetworkOptions`); absent means Docker. */
  engine?: EngineKind;
}

export interface TransformResult {
  model: Record<string, unknown>;
  /** Deterministic YAML text of `model`, accepted by compose 1.29 and v2. */
  yaml: string;
  /** The names of the services the rendered file runs, sorted. */
  services: string[];
}

interface Scope {
  /** Prefix of explicitly named networks and volumes, e.g. `cilo_<home>_<project>_<env>_`. */
  namePrefix: string;
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
    namePrefix: `${input.dockerName}_`,
    labels: envLabels(input.home, input.project, input.env),
    implicitPrefix: typeof model["name"] === "string" ? `${model["name"]}_` : undefined,
  };
  delete model["name"];

  const enabled = new Set(input.profiles ?? []);
  const shared = new Set(input.shared?.services ?? []);
  const services = mappingOf(model["services"] ?? {}, "services");
  for (const name of shared) {
    if (!(name in services)) throw invalid(`shared service "${name}"`, "is not a service of the project");
  }
  const extra: Record<string, string> = {};
  if (input.shared) extra[SHARED_NETWORK_KEY] = input.shared.network;
  (input.joinNetworks ?? []).forEach((network, i) => {
    extra[`${JOIN_NETWORK_KEY}${i + 1}`] = network;
  });
  for (const [name, value] of Object.entries(services)) {
    const service = mappingOf(value, `service "${name}"`);
    if (shared.has(name) || !isEnabled(name, service["profiles"], enabled)) {
      delete services[name];
      continue;
    }
    transformService(name, service, scope.labels);
    if (input.ca !== undefined) mountCa(name, service, input.ca);
    if (input.environment && Object.keys(input.environment).length > 0) addEnvironment(service, input.environment);
    dropReferences(name, service, shared);
    joinExtraNetworks(service, Object.keys(extra));
  }
  model["services"] = services;

  const networks = scopeResources(mappingOf(model["networks"] ?? {}, "networks"), "network", scope);
  if (input.networkSubnets) readdressNetworks(networks, services, input.networkSubnets);
  networks["default"] = {
    driver: "bridge",
    ipam: { config: [{ subnet: input.subnet }] },
    labels: scope.labels,
    name: input.dockerName,
  };
  for (const [key, name] of Object.entries(extra)) networks[key] = { external: true, name };
  engineNetworkOptions(networks, input.engine);
  model["networks"] = networks;

  if (model["volumes"] !== undefined) {
    const volumes = scopeResources(mappingOf(model["volumes"], "volumes"), "volume", scope);
    if (shared.size > 0) dropUnusedVolumes(volumes, services);
    model["volumes"] = volumes;
  }

  return { model, yaml: stringifyComposeYaml(model), services: Object.keys(services).sort() };
}

export interface SharedTransformInput {
  /** The resolved model of a project (any env's); only `services` are taken from it. */
  model: Record<string, unknown>;
  project: string;
  services: string[];
  /** The shared network (its name) and subnet. */
  network: string;
  subnet: string;
  /** Labels for every resource of the shared instance. */
  labels: Record<string, string>;
  /** Compose project name of the shared instance; prefixes explicitly named volumes. */
  composeProject: string;
  /** The engine the file is for; absent means Docker. */
  engine?: EngineKind;
}

/**
 * The compose model of a project's shared instance (SPEC §8): only the shared services, with the
 * same treatment as an env (no host ports, no container names, labels), on the shared network,
 * with the volumes they use scoped to the shared instance. A shared service may depend only on
 * other shared services.
 */
export function transformSharedCompose(input: SharedTransformInput): TransformResult {
  const model = structuredClone(input.model);
  const scope: Scope = {
    namePrefix: `${input.composeProject}_`,
    labels: input.labels,
    implicitPrefix: typeof model["name"] === "string" ? `${model["name"]}_` : undefined,
  };
  const all = mappingOf(model["services"] ?? {}, "services");
  const keep = new Set(input.services);
  const services: Mapping = {};
  for (const name of [...keep].sort()) {
    if (!(name in all)) throw invalid(`shared service "${name}"`, "is not a service of the project");
    const service = mappingOf(all[name], `service "${name}"`);
    for (const dep of dependencyNames(service)) {
      if (!keep.has(dep)) {
        throw new CiloError("E_SHARED_DEPENDS", `Shared service "${name}" depends on "${dep}", which is not shared`, {
          exitCode: ExitCode.usage,
          hint: `Share "${dep}" too, or isolate "${name}"`,
        });
      }
    }
    transformService(name, service, input.labels);
    delete service["networks"];
    services[name] = service;
  }
  const out: Mapping = {};
  if (model["version"] !== undefined) out["version"] = model["version"];
  out["services"] = services;
  out["networks"] = {
    default: { driver: "bridge", ipam: { config: [{ subnet: input.subnet }] }, labels: input.labels, name: input.network },
  };
  engineNetworkOptions(out["networks"] as Mapping, input.engine);
  if (model["volumes"] !== undefined) {
    const volumes = scopeResources(mappingOf(model["volumes"], "volumes"), "volume", scope);
    dropUnusedVolumes(volumes, services);
    if (Object.keys(volumes).length > 0) out["volumes"] = volumes;
  }
  return { model: out, yaml: stringifyComposeYaml(out), services: Object.keys(services) };
}

/** The network keys the transform adds for the shared network and joined networks. */
export const SHARED_NETWORK_KEY = "cilo_shared";
const JOIN_NETWORK_KEY = "cilo_join_";

/** Removes `depends_on` and `links` entries that name services which are not in the env. */
/**
 * Podman reports every network's IPAM options as `{driver: "host-local"}` (netavark and CNI), and
 * docker-compose 1.29 compares a network's IPAM options with the file's whenever the network
 * already exists: an `up` of an env whose network is up (another profile, a new service, a shared
 * instance's second user) failed with "Network … needs to be recreated - IPAM option "driver" has
 * changed". On Podman, every network with `ipam` that is not external states the option Podman
 * keeps anyway (Podman accepts it when creating the network), so the two agree.
 */
function engineNetworkOptions(networks: Mapping, engine: EngineKind | undefined): void {
  if (engine !== "podman") return;
  for (const value of Object.values(networks)) {
    if (!isMapping(value) || isExternal(value) || !isMapping(value["ipam"])) continue;
    const ipam = value["ipam"];
    const options = isMapping(ipam["options"]) ? ipam["options"] : {};
    if (options["driver"] === undefined) ipam["options"] = { ...options, driver: PODMAN_IPAM_DRIVER };
  }
}

/** The IPAM driver Podman names in every network's IPAM options. */
const PODMAN_IPAM_DRIVER = "host-local";

function dropReferences(name: string, service: Mapping, gone: Set<string>): void {
  if (gone.size === 0) return;
  const mode = service["network_mode"];
  if (typeof mode === "string" && mode.startsWith("service:") && gone.has(mode.slice("service:".length))) {
    throw new CiloError("E_SHARED_NETWORK_MODE", `Service "${name}" shares the network of "${mode.slice(8)}", which is shared across envs`, {
      exitCode: ExitCode.usage,
      hint: `Isolate "${mode.slice(8)}" for this env`,
    });
  }
  const deps = service["depends_on"];
  if (Array.isArray(deps)) {
    const left = deps.filter((d) => !gone.has(String(d)));
    if (left.length > 0) service["depends_on"] = left;
    else delete service["depends_on"];
  } else if (isMapping(deps)) {
    for (const d of Object.keys(deps)) if (gone.has(d)) delete deps[d];
    if (Object.keys(deps).length === 0) delete service["depends_on"];
  }
  const links = service["links"];
  if (Array.isArray(links)) {
    const left = links.filter((l) => !gone.has(String(l).split(":")[0]!));
    if (left.length > 0) service["links"] = left;
    else delete service["links"];
  }
}

function dependencyNames(service: Mapping): string[] {
  const deps = service["depends_on"];
  if (Array.isArray(deps)) return deps.map(String);
  if (isMapping(deps)) return Object.keys(deps);
  return [];
}

/** Attaches a service to the extra (external) networks, besides the env network. */
function joinExtraNetworks(service: Mapping, keys: string[]): void {
  if (keys.length === 0 || service["network_mode"] !== undefined) return;
  const networks = isMapping(service["networks"]) ? service["networks"] : { default: null };
  for (const key of keys) networks[key] = null;
  service["networks"] = networks;
}

/** Drops top-level volumes no service mounts any more (they belonged to left-out services). */
function dropUnusedVolumes(volumes: Mapping, services: Mapping): void {
  const used = new Set<string>();
  for (const service of Object.values(services)) {
    const mounts = isMapping(service) ? service["volumes"] : undefined;
    if (!Array.isArray(mounts)) continue;
    for (const m of mounts) {
      if (typeof m === "string") used.add(m.split(":")[0]!);
      else if (isMapping(m) && typeof m["source"] === "string") used.add(m["source"]);
    }
  }
  for (const key of Object.keys(volumes)) if (!used.has(key)) delete volumes[key];
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

/**
 * A service labelled `cilo.ca` gets the CA certificate (at the label's path, else
 * DEFAULT_CA_MOUNT) and the bundle (DEFAULT_CA_BUNDLE_MOUNT) mounted read-only, and the variables
 * that make its processes, and commands run in it by `cilo exec`, trust the gateway: `CILO_CA_CERT`,
 * `CILO_CA_BUNDLE`, `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE` (the bundle: they
 * replace the trusted set) and `NODE_EXTRA_CA_CERTS` (the certificate: Node adds it to its own
 * list). A variable the service sets itself keeps its value.
 */
function mountCa(name: string, service: Mapping, ca: { cert: string; bundle: string }): void {
  const value = (service["labels"] as Record<string, unknown>)[LABEL_CA];
  if (value === undefined || value === "false") return;
  const target = value === "true" || value === "" ? DEFAULT_CA_MOUNT : String(value);
  if (!/^\/[A-Za-z0-9._/-]+$/.test(target) || target.split("/").includes("..") || target === DEFAULT_CA_BUNDLE_MOUNT) {
    throw invalid(
      `service "${name}"`,
      `label ${LABEL_CA} must be "true" or an absolute path inside the container other than ${DEFAULT_CA_BUNDLE_MOUNT}, not ${JSON.stringify(target.slice(0, 80))}`,
    );
  }
  for (const hostPath of [ca.cert, ca.bundle])
    if (/[:\0-\x1f]/.test(hostPath))
      throw invalid(`service "${name}"`, `the CA file path ${JSON.stringify(hostPath)} cannot be mounted (it has ":" or control characters)`);
  const volumes = Array.isArray(service["volumes"]) ? service["volumes"] : [];
  service["volumes"] = [...volumes, `${ca.cert}:${target}:ro`, `${ca.bundle}:${DEFAULT_CA_BUNDLE_MOUNT}:ro`];
  const bundle = DEFAULT_CA_BUNDLE_MOUNT;
  const trust: Record<string, string> = {
    CILO_CA_CERT: target,
    CILO_CA_BUNDLE: bundle,
    SSL_CERT_FILE: bundle,
    REQUESTS_CA_BUNDLE: bundle,
    CURL_CA_BUNDLE: bundle,
    NODE_EXTRA_CA_CERTS: target,
  };
  const own = labelMap(service["environment"], `service "${name}" environment`);
  addEnvironment(service, Object.fromEntries(Object.entries(trust).filter(([k]) => !Object.hasOwn(own, k))));
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
  throw new CiloError("E_NETWORK_MODE", `Service "${service}" uses network_mode: ${mode}, which joins a network outside the env`, {
    exitCode: ExitCode.usage,
    hint: "Attach the service with networks: instead",
  });
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
      else resource["name"] = `${scope.namePrefix}${name}`;
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
