import type { EngineKind } from "../engine.ts";

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
  /** Whether the engine has the image locally. */
  hasImage(image: string): Promise<boolean>;
  /** Pulls an image from its registry. */
  pullImage(image: string): Promise<void>;
  /** Creates (does not start) a container; returns its id. A name in use throws E_DOCKER_CONFLICT. */
  createContainer(spec: ContainerSpec): Promise<string>;
  /** Starts a created container. A published port in use throws E_DOCKER_PORT_TAKEN. */
  startContainer(id: string): Promise<void>;
  /** Attaches a container to a network (no error if it is on it already). */
  connectNetwork(networkId: string, containerId: string): Promise<void>;
  /** Runs a command in a running container and waits for it. */
  exec(id: string, cmd: string[]): Promise<{ code: number; output: string }>;
  /** Writes one file into a container (running or not), creating its folder; works on remote engines. */
  putFile(id: string, path: string, content: string, mode?: number): Promise<void>;
}

/** A container cilo makes itself (not through compose): the gateway. */
export interface ContainerSpec {
  name: string;
  image: string;
  cmd: string[];
  labels: Record<string, string>;
  /** Container ports published on a host address: `{ hostIp: "127.0.0.1", hostPort: 80, containerPort: 80 }`. */
  publish?: { hostIp: string; hostPort: number; containerPort: number }[];
  /** The network it starts on (default: the engine's default bridge). */
  network?: string;
  /** Restart policy `unless-stopped` (restarted with the engine, not after a manual stop). */
  restart?: boolean;
}

export interface EngineInfo {
  version: string;
  apiVersion: string;
  /** Which engine answered (Podman names itself in `/version`); absent from fakes. */
  engine?: EngineKind;
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
