import type { EngineKind } from "../engine.ts";

/** What cilo needs from a container runtime. Docker (dockerode) implements it; Podman speaks the same API. */
export interface RuntimeProvider {
  readonly name: string;
  /** Which engine, and where that choice came from (e.g. `unix:///var/run/docker.sock (default socket)`). */
  readonly address?: string;
  /** Engine version; throws E_DOCKER_UNAVAILABLE (exit 3) when the engine does not answer. */
  ping(): Promise<EngineInfo>;
  /** What the last successful `ping` learned, without asking the engine again; undefined before one. */
  lastPing?(): EngineInfo | undefined;
  /** The engine's `/info`: its host's name, data root and storage driver (`cilo host check`). */
  info?(): Promise<EngineDetails>;
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
  /** Joins a container to a network; `aliases` are extra names the network's DNS answers with its address. */
  connectNetwork(networkId: string, containerId: string, aliases?: string[]): Promise<void>;
  /** Runs a command in a running container and waits for it. */
  exec(id: string, cmd: string[]): Promise<{ code: number; output: string }>;
  /** Writes one file into a container (running or not), creating its folder; works on remote engines. */
  putFile(id: string, path: string, content: string, mode?: number): Promise<void>;
  /** A volume's driver, labels and (local driver) folder on the engine's host; undefined if there is none. */
  inspectVolume(name: string): Promise<VolumeInfo | undefined>;
  /**
   * Creates a network as compose would (attachable, one IPAM subnet): `up` makes the env's own
   * network while compose v1 is still loading. A name in use throws E_DOCKER_CONFLICT; a subnet
   * taken meanwhile throws E_DOCKER with the engine's words (`subnetTaken`). Optional: a runtime
   * without it leaves the network to compose.
   */
  createNetwork?(spec: { name: string; driver: string; subnet: string; labels: Record<string, string> }): Promise<void>;
  /** Creates a named volume with these labels. */
  createVolume(spec: { name: string; labels: Record<string, string>; driver?: string }): Promise<void>;
  pauseContainer(id: string): Promise<void>;
  unpauseContainer(id: string): Promise<void>;
  /** Stops a running container (no error if it is stopped). */
  stopContainer(id: string): Promise<void>;
  /** A tar stream of a folder in a container (running or not): the engine's archive API, local or remote. */
  archiveOut(id: string, path: string): Promise<NodeJS.ReadableStream>;
  /** Extracts a tar stream into a folder of a container (running or not). */
  archiveIn(id: string, path: string, tar: NodeJS.ReadableStream): Promise<void>;
}

export interface VolumeInfo extends VolumeState {
  driver: string;
  /** Where the local driver keeps the data on the engine's host. */
  mountpoint?: string;
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
  /** Named volumes mounted into it: `{ volume, target }`. */
  volumes?: { volume: string; target: string }[];
  /** Folders of the engine's host mounted read-only: `{ source, target }` (absolute paths). */
  binds?: { source: string; target: string }[];
}

export interface EngineDetails {
  /** The engine host's name. */
  name?: string;
  /** Where the engine keeps images, containers and volumes (`DockerRootDir`). */
  rootDir?: string;
  storageDriver?: string;
  os?: string;
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
  /** Network aliases per network name (from inspect only; a list does not carry them). */
  aliases?: Record<string, string[]>;
  /** Names of the named volumes it mounts (from the container list). */
  volumes?: string[];
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
