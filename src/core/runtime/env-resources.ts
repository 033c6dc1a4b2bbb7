import type { ContainerState, NetworkState, RuntimeProvider, VolumeState } from "./provider.ts";
import { envQueryLabels, LABEL_HOME, legacyEnvDockerName, legacySharedDockerName, sharedQueryLabels } from "../labels.ts";
import type { EnvRecord } from "../state/schema.ts";

/**
 * Whether a resource labelled for `rec`'s project and env is this home's: labelled with this
 * home's id, or, for an env made before homes had ids (legacy Docker name), not labelled with
 * any home. Another home's env of the same project and name is never touched.
 */
export function ownsResource(rec: Pick<EnvRecord, "project" | "name" | "docker_name">, homeId: string, labels: Record<string, string>): boolean {
  if (labels[LABEL_HOME] === undefined) return rec.docker_name === legacyEnvDockerName(rec.project, rec.name);
  return labels[LABEL_HOME] === homeId;
}

type EnvRef = Pick<EnvRecord, "project" | "name" | "docker_name">;

/** The env's containers (of this home only). */
export async function envContainers(provider: RuntimeProvider, rec: EnvRef, homeId: string): Promise<ContainerState[]> {
  return (await provider.listContainers(envQueryLabels(rec.project, rec.name))).filter((c) => ownsResource(rec, homeId, c.labels));
}

/** The env's labelled networks (of this home only). */
export async function envNetworks(provider: RuntimeProvider, rec: EnvRef, homeId: string): Promise<NetworkState[]> {
  return (await provider.listNetworks(envQueryLabels(rec.project, rec.name))).filter((n) => ownsResource(rec, homeId, n.labels));
}

/** The env's named volumes (of this home only). */
export async function envVolumes(provider: RuntimeProvider, rec: EnvRef, homeId: string): Promise<VolumeState[]> {
  return (await provider.listVolumes(envQueryLabels(rec.project, rec.name))).filter((v) => ownsResource(rec, homeId, v.labels));
}

/**
 * Whether a resource labelled for `project`'s shared instance is this home's: as `ownsResource`,
 * with the instance's recorded network name telling whether it predates home ids. With no
 * instance recorded, only resources labelled with this home count.
 */
export function ownsSharedResource(project: string, network: string | undefined, homeId: string, labels: Record<string, string>): boolean {
  if (labels[LABEL_HOME] === undefined) return network !== undefined && network === legacySharedDockerName(project);
  return labels[LABEL_HOME] === homeId;
}

/** The containers of a project's shared instance in this home (`network`: its recorded name). */
export async function sharedContainers(provider: RuntimeProvider, project: string, network: string | undefined, homeId: string): Promise<ContainerState[]> {
  return (await provider.listContainers(sharedQueryLabels(project))).filter((c) => ownsSharedResource(project, network, homeId, c.labels));
}

/** The labelled networks and volumes of a project's shared instance in this home. */
export async function sharedNetworksAndVolumes(
  provider: RuntimeProvider,
  project: string,
  network: string | undefined,
  homeId: string,
): Promise<{ networks: NetworkState[]; volumes: VolumeState[] }> {
  const labels = sharedQueryLabels(project);
  const [networks, volumes] = await Promise.all([provider.listNetworks(labels), provider.listVolumes(labels)]);
  const own = (l: Record<string, string>) => ownsSharedResource(project, network, homeId, l);
  return { networks: networks.filter((n) => own(n.labels)), volumes: volumes.filter((v) => own(v.labels)) };
}

/**
 * Labels that select exactly the env's containers in a plain label query (for callers that only
 * take labels, such as wait strategies): with this home's id, except for envs that predate ids.
 */
export function envSelectorLabels(rec: EnvRef, homeId: string): Record<string, string> {
  const labels = envQueryLabels(rec.project, rec.name);
  return rec.docker_name === legacyEnvDockerName(rec.project, rec.name) ? labels : { ...labels, [LABEL_HOME]: homeId };
}

/** As `envSelectorLabels`, for a project's shared instance (`network`: its recorded name). */
export function sharedSelectorLabels(project: string, network: string, homeId: string): Record<string, string> {
  const labels = sharedQueryLabels(project);
  return network === legacySharedDockerName(project) ? labels : { ...labels, [LABEL_HOME]: homeId };
}
