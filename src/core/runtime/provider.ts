/** What cilo needs from a container runtime. Docker (dockerode) implements it; Podman speaks the same API. */
export interface RuntimeProvider {
  readonly name: string;
  /** Which engine, and where that choice came from (e.g. `unix:///var/run/docker.sock (default socket)`). */
  readonly address?: string;
  /** Engine version; throws E_DOCKER_UNAVAILABLE (exit 3) when the engine does not answer. */
  ping(): Promise<EngineInfo>;
  listContainers(labels: Record<string, string>): Promise<ContainerState[]>;
  inspectContainer(id: string): Promise<ContainerState | undefined>;
  listNetworks(labels?: Record<string, string>): Promise<NetworkState[]>;
  listVolumes(labels?: Record<string, string>): Promise<VolumeState[]>;
  removeContainer(id: string): Promise<void>;
  removeNetwork(id: string): Promise<void>;
  removeVolume(name: string): Promise<void>;
  /** Takes a container off a network (no error if it is not on it). */
  disconnectNetwork(networkId: string, containerId: string): Promise<void>;
  /** The last `tail` lines of a container's output (stdout and stderr). */
  logs(id: string, tail: number): Promise<string>;
}

export interface EngineInfo {
  version: string;
  apiVersion: string;
}

export interface ContainerState {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** created, running, restarting, exited, paused, dead */
  state: string;
  /** healthy, unhealthy, starting; undefined when the container has no healthcheck. */
  health?: string;
  exitCode?: number;
  restartCount?: number;
  /** IP per network name. */
  ips: Record<string, string>;
}

export interface NetworkState {
  id: string;
  name: string;
  subnets: string[];
  labels: Record<string, string>;
  containers?: number;
}

export interface VolumeState {
  name: string;
  labels: Record<string, string>;
}
