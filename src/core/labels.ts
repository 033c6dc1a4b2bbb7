/** Labels on every Docker resource cilo creates (SPEC §2 invariant 6). */
export const LABEL_MANAGED = "cilo.managed";
export const LABEL_PROJECT = "cilo.project";
export const LABEL_ENV = "cilo.env";
export const LABEL_SERVICE = "cilo.service";
/** On the resources of a project's shared instance (which carry no `cilo.env`). */
export const LABEL_SHARED = "cilo.shared";

/** Labels a user may set on compose services (SPEC §4). */
export const LABEL_INGRESS = "cilo.ingress";
export const LABEL_HOSTNAMES = "cilo.hostnames";
export const LABEL_SHARE = "cilo.share";

export function envLabels(project: string, env: string): Record<string, string> {
  return { [LABEL_MANAGED]: "true", [LABEL_PROJECT]: project, [LABEL_ENV]: env };
}

/** The compose project name of an env: `cilo_<project>_<env>`. */
export function composeProjectName(project: string, env: string): string {
  return `cilo_${project}_${env}`;
}

/** The Docker network of an env. */
export function envNetworkName(project: string, env: string): string {
  return `cilo_${project}_${env}`;
}

/** The compose project, and network, of a project's shared instance. `__` cannot occur in an env's. */
export function sharedComposeProject(project: string): string {
  return `cilo_${project}__shared`;
}

export function sharedLabels(project: string): Record<string, string> {
  return { [LABEL_MANAGED]: "true", [LABEL_PROJECT]: project, [LABEL_SHARED]: "true" };
}
