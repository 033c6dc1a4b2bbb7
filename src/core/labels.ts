/** Labels on every Docker resource cilo creates (SPEC §2 invariant 6). */
export const LABEL_MANAGED = "cilo.managed";
/** The id of the `CILO_HOME` that made the resource: a home touches only its own (SPEC §7a). */
export const LABEL_HOME = "cilo.home";
/** The home's folder, so `cilo doctor` in another home can tell whether that home still exists. */
export const LABEL_HOME_PATH = "cilo.home.path";
export const LABEL_PROJECT = "cilo.project";
export const LABEL_ENV = "cilo.env";
export const LABEL_SERVICE = "cilo.service";
/**
 * On a service of the user's compose file: mount this home's CA certificate (the gateway's root) in
 * its containers, at the label's value (an absolute path) or `/run/cilo/ca.crt` for `"true"`, and
 * the bundle that trusts it at `/run/cilo/ca-bundle.pem`, and point `CILO_CA_CERT`,
 * `SSL_CERT_FILE` & co. at them (docs/routing.md, "The same URL inside the env").
 */
export const LABEL_CA = "cilo.ca";
export const DEFAULT_CA_MOUNT = "/run/cilo/ca.crt";
export const DEFAULT_CA_BUNDLE_MOUNT = "/run/cilo/ca-bundle.pem";
/** On the resources of a project's shared instance (which carry no `cilo.env`). */
export const LABEL_SHARED = "cilo.shared";

/** Labels a user may set on compose services (SPEC §4). */
export const LABEL_INGRESS = "cilo.ingress";
export const LABEL_HOSTNAMES = "cilo.hostnames";
export const LABEL_SHARE = "cilo.share";
/** `cilo.share.per_env: database` (+ `cilo.share.template`, `cilo.share.engine`): one database per env on the shared server (docs/data.md). */
export const LABEL_SHARE_PER_ENV = "cilo.share.per_env";
export const LABEL_SHARE_TEMPLATE = "cilo.share.template";
export const LABEL_SHARE_ENGINE = "cilo.share.engine";
/** The container port the gateway sends a service's HTTP to (docs/routing.md). */
export const LABEL_PORT = "cilo.port";
/** The container ports of a service that get a host TCP forward: `5432,6379`, `true` (all), `false` (none). */
export const LABEL_TCP = "cilo.tcp";
/** On the TCP forward containers of an env (docs/routing.md "TCP services"). */
export const LABEL_FORWARD = "cilo.forward";
/** On the gateway container of a home (which carries no project or env). */
export const LABEL_GATEWAY = "cilo.gateway";

/** On the short-lived helper containers that stream a volume's data as tar (docs/snapshots.md). */
export const LABEL_HELPER = "cilo.helper";

/** The labels of a home's volume helper containers (created, never started, removed after use). */
export function helperLabels(home: HomeRef): Record<string, string> {
  return { ...homeLabels(home), [LABEL_HELPER]: "volume-copy" };
}

/**
 * The gateway container of a home: one per `CILO_HOME` on this machine's engine (`host` undefined),
 * and one on each `tcp://` host's engine that routes that host's envs, named after the host
 * (`cilo_<home id>_gateway.<host>`: a host whose engine is this machine's own then holds two
 * containers, not one both gateways would rewrite; the dot is in no project, env or compose name).
 */
export function gatewayContainerName(homeId: string, host?: string): string {
  return host === undefined ? `cilo_${homeId}_gateway` : `cilo_${homeId}_gateway.${host}`;
}

/** The labels of a home's gateway container. */
export function gatewayLabels(home: HomeRef): Record<string, string> {
  return { ...homeLabels(home), [LABEL_GATEWAY]: "true" };
}

/** Which `CILO_HOME` this is: its id (kept in state) and its folder. */
export interface HomeRef {
  id: string;
  path: string;
}

/** A home id: lower-case letters and digits (it is part of Docker names). */
export const HOME_ID_PATTERN = /^[a-z0-9]{6,32}$/;

function homeLabels(home: HomeRef): Record<string, string> {
  return { [LABEL_MANAGED]: "true", [LABEL_HOME]: home.id, [LABEL_HOME_PATH]: home.path };
}

/** The labels cilo puts on an env's containers, network and volumes. */
export function envLabels(home: HomeRef, project: string, env: string): Record<string, string> {
  return { ...homeLabels(home), [LABEL_PROJECT]: project, [LABEL_ENV]: env };
}

/**
 * The labels to look an env's resources up by. They leave the home out so that resources made
 * before homes had ids are found too; `isHomeResource` then drops those of other homes.
 */
export function envQueryLabels(project: string, env: string): Record<string, string> {
  return { [LABEL_MANAGED]: "true", [LABEL_PROJECT]: project, [LABEL_ENV]: env };
}

/** True unless the resource is labelled with another home's id (unlabelled ones predate ids). */
export function isHomeResource(labels: Record<string, string>, homeId: string): boolean {
  const id = labels[LABEL_HOME];
  return id === undefined || id === homeId;
}

/**
 * The Docker name of an env (its compose project and its network): `cilo_<home>_<project>_<env>`,
 * unique per home. Env and project names cannot hold `_`, so it never equals another env's.
 */
export function envDockerName(homeId: string, project: string, env: string): string {
  return `cilo_${homeId}_${project}_${env}`;
}

/** The Docker name of envs created before homes had ids: `cilo_<project>_<env>`. */
export function legacyEnvDockerName(project: string, env: string): string {
  return `cilo_${project}_${env}`;
}

/** The compose project, and network, of a project's shared instance. `__` cannot occur in an env's. */
export function sharedDockerName(homeId: string, project: string): string {
  return `cilo_${homeId}_${project}__shared`;
}

/** The shared instance's name before homes had ids. */
export function legacySharedDockerName(project: string): string {
  return `cilo_${project}__shared`;
}

export function sharedLabels(home: HomeRef, project: string): Record<string, string> {
  return { ...homeLabels(home), [LABEL_PROJECT]: project, [LABEL_SHARED]: "true" };
}

/** The labels to look a project's shared resources up by (see `envQueryLabels`). */
export function sharedQueryLabels(project: string): Record<string, string> {
  return { [LABEL_MANAGED]: "true", [LABEL_PROJECT]: project, [LABEL_SHARED]: "true" };
}
