import type { EngineKind } from "../engine.ts";

/** The current version of `state.json`. Older files are migrated on read (see migrations.ts). */
export const STATE_VERSION = 3;

export interface StateConfig {
  /** Pool envs take their subnets from, e.g. `10.224.0.0/12`. */
  subnet_pool: string;
  /** Prefix length of one env's subnet, e.g. 24. */
  subnet_size: number;
  /** Loopback port cilo's dnsmasq listens on. */
  dns_port: number;
  /** DNS suffix without the leading dot, e.g. `test`. */
  dns_suffix: string;
  /** Loopback port the gateway publishes HTTP on (`cilo init --gateway-http-port`); default 80. */
  gateway_http_port?: number;
  /** Loopback port kept for the gateway's HTTPS (`cilo init --gateway-https-port`); default 443. */
  gateway_https_port?: number;
  /** The gateway's image (`cilo init --gateway-image`); `CILO_GATEWAY_IMAGE` overrides; default `caddy:2`. */
  gateway_image?: string;
  /**
   * How the host reaches envs (`cilo init --routing`): `direct` answers `.test` names with
   * container IPs; `gateway` answers them with the gateway's address; `auto` (the default, also
   * when absent) is `gateway` where a probe found container IPs unreachable from this host, else
   * `direct` (`effectiveRouting`). `.localhost` names always go through the gateway.
   */
  routing?: RoutingMode;
  /** What the `auto` routing probe found, for one engine endpoint (docs/routing.md, "Modes"). */
  routing_probe?: RoutingProbe;
  /** Host ports TCP forwards are taken from, `<first>-<last>` (`cilo init --forward-ports`); default 15000-15999. */
  forward_ports?: string;
  /** The container engine (`cilo init --engine`; `CILO_ENGINE` overrides); absent: detected from the endpoint's `/version`. */
  engine?: EngineKind;
}

export type RoutingMode = "direct" | "gateway" | "auto";

export const ROUTING_MODES: readonly RoutingMode[] = ["direct", "gateway", "auto"];

/** Whether this host reached a container IP of the engine at `endpoint` (a TCP connect to the gateway). */
export interface RoutingProbe {
  endpoint: string;
  reachable: boolean;
  /** The `ip:port` tried. */
  target: string;
  at: string;
}

export const DEFAULT_CONFIG: StateConfig = {
  subnet_pool: "10.224.0.0/12",
  subnet_size: 24,
  dns_port: 5354,
  dns_suffix: "test",
};

export type EnvStatus = "creating" | "created" | "starting" | "running" | "stopped" | "failed" | "destroying";

export const ENV_STATUSES: readonly EnvStatus[] = ["creating", "created", "starting", "running", "stopped", "failed", "destroying"];

export interface ServiceRecord {
  name: string;
  state?: string;
  health?: string;
  ip?: string;
  /** Extra DNS labels of this service (custom hostnames). */
  hostnames?: string[];
  ingress?: boolean;
  /** Served by the project's shared instance instead of a container of the env (SPEC §8). */
  shared?: boolean;
  /**
   * The container port the gateway sends HTTP to: the `cilo.port` label, else the single exposed or
   * originally published container port, else absent (the gateway then uses 80).
   */
  port?: number;
  /** Every container port the service exposes or published, sorted, when there are several. */
  ports?: number[];
  /** Container ports that get a host TCP forward (docs/routing.md "TCP services"): label `cilo.tcp`, else well-known ports. */
  tcp?: number[];
}

/** A host port that forwards to one container port of an env's service (docs/routing.md "TCP services"). */
export interface ForwardRecord {
  service: string;
  /** The service's container port. */
  port: number;
  /** The address the forward is published on: 127.0.0.1, or the engine's for a `tcp://` engine. */
  address: string;
  host_port: number;
}

export interface OperationMarker {
  kind: "create" | "up" | "down" | "destroy";
  pid: number;
  started_at: string;
}

export interface EnvSource {
  kind: "copy" | "reflink" | "worktree" | "git" | "none";
  path?: string;
  url?: string;
  ref?: string;
  branch?: string;
}

export interface EnvRecord {
  project: string;
  name: string;
  /**
   * The env's compose project and network name: `cilo_<home id>_<project>_<env>`, or
   * `cilo_<project>_<env>` for envs created before homes had ids (schema 1).
   */
  docker_name: string;
  status: EnvStatus;
  subnet: string;
  /**
   * Subnets from the pool for the project's networks that fix one in ipam, by network key (each
   * env's copy of such a network is re-addressed into its own; released with the env).
   */
  extra_subnets?: Record<string, string>;
  workspace: string;
  created_at: string;
  updated_at: string;
  last_used_at?: string;
  source?: EnvSource;
  services: ServiceRecord[];
  /** Custom hostnames per service, set with `cilo hostnames`. */
  hostnames?: Record<string, string[]>;
  dns_suffix?: string;
  /** Set while an operation runs; left behind when it was interrupted. */
  operation?: OperationMarker;
  /** Services of this env that the project's shared instance provides (as of the last up). */
  shared_services?: string[];
  /** Envs (`<project>/<env>`) whose network this env joins (`--shared-network`). */
  shared_networks?: string[];
  /** For throwaway envs: the pid of the process whose death destroys the env. */
  owner_pid?: number;
  /** What holds the lease `owner_pid` names: `mcp` for an env an MCP session (`cilo mcp`) created; absent for `--ephemeral` and workflows. */
  lease?: "mcp";
  /** `cilo create --ttl`: when the env is destroyed whatever happens (the TTL reaper, or `cilo gc`). */
  expires_at?: string;
  error?: string;
  /** The engine the env's containers and networks were last made on (`docker`, `podman`); absent before issue 19. */
  engine?: EngineKind;
  /**
   * TCP forwards of the env (as of its last up). Held while the env is not stopped; a stopped env
   * keeps them only as the ports its next up prefers.
   */
  forwards?: ForwardRecord[];
  /** The host (`cilo host add`, a key of `State.hosts`) the env runs on; absent: the local engine. */
  host?: string;
  /** With `host`: the env's workspace on that host, `<remote root>/<project>/<env>` (absolute), that cilo sync pushes to. */
  remote_workspace?: string;
  /** Its own databases on shared servers (`per_env: database`, docs/data.md), dropped by destroy. */
  databases?: EnvDatabase[];
}

/** An env's database on a shared PostgreSQL server. */
export interface EnvDatabase {
  /** The shared service that serves it. */
  service: string;
  /** `cilo_<env>` */
  name: string;
  template: string;
  /** The role cilo's psql connects as. */
  user: string;
  /** How the env's services reach it (`postgresql://<user>[:<password>]@<service>:5432/<name>`). */
  url: string;
}

/**
 * A Docker host envs may run on (`cilo host add`, docs/remote.md): an `ssh://` or `tcp://`
 * address, or a Docker context by name. Never credentials: TLS material by folder path only.
 */
export interface HostRecord {
  /** `ssh://[user@]host[:port]` or `tcp://host:port`; absent when `context` names a Docker context. */
  address?: string;
  /** A Docker context, resolved each time the host is used (its host and TLS folder). */
  context?: string;
  /** For `tcp://`: a folder with ca.pem, cert.pem and key.pem (the DOCKER_CERT_PATH layout), by path. */
  tls_dir?: string;
  /** Where envs' workspaces go on the host (`--remote-root`, absolute); absent: `~/.cilo-remote` of the SSH user. */
  remote_root?: string;
  /**
   * For a `tcp://` engine given by host name (or a Docker context of one): what that name resolved
   * to with the system resolver at `host add`, `host check` and each `up` of the host's envs; the
   * address its gateway and forwards publish on (docs/remote.md "Names of envs on a tcp:// host").
   */
  resolved?: HostResolution;
  added_at: string;
}

/** A host name resolved to an IPv4 address (`ipv4`), or why it did not (`error`), at `at`. */
export interface HostResolution {
  name: string;
  ipv4?: string;
  error?: string;
  at: string;
}

export interface ComposeInfo {
  command: string[];
  version: string;
}

/** One service of a project's shared instance and the envs using it. */
export interface SharedServiceRecord {
  /** Env names (of the same project) that use it. */
  users: string[];
  /** When the last user left; the service is stopped a grace period later. */
  idle_since?: string;
}

/** A project's shared instance: its own compose project and network (SPEC §8). */
export interface SharedInstance {
  project: string;
  /** Its network and compose project name (see `sharedDockerName`). */
  network: string;
  subnet: string;
  services: Record<string, SharedServiceRecord>;
}

export interface State {
  version: number;
  /** This home's id, on every Docker resource it makes (`cilo.home`) and in their names. */
  home_id: string;
  config: StateConfig;
  /** Keyed by `<project>/<env>`. */
  envs: Record<string, EnvRecord>;
  /** Shared instances, keyed by project. */
  shared?: Record<string, SharedInstance>;
  compose?: ComposeInfo;
  /** Docker hosts envs may run on, by name (`cilo host add`). */
  hosts?: Record<string, HostRecord>;
}

export function envKey(project: string, env: string): string {
  return `${project}/${env}`;
}

export function emptyState(homeId: string, config: StateConfig = DEFAULT_CONFIG): State {
  return { version: STATE_VERSION, home_id: homeId, config: { ...config }, envs: {} };
}
