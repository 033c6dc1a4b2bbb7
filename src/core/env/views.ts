/**
 * The objects of cilo's JSON contract (docs/json.md; schema/cilo.env.schema.json and its
 * siblings), as types only: what the CLI prints with --json, the library returns and `cilo mcp`
 * answers. Built by env-view.ts (`envView`, `destroyView`) and run-in-env.ts (`runInEnvResult`).
 */
import type { EnvSource, EnvStatus, OperationMarker } from "../state/schema.ts";

/**
 * The version of the env object (docs/json.md, schema/cilo.env.schema.json). Fields may be added
 * under the same version; renaming or removing one, or changing its meaning, needs a new one.
 */
export const ENV_SCHEMA_VERSION = 1;

/** One service of an env object. `state` and `health` are read live from Docker (absent in `cilo list`). */
export interface ServiceView {
  name: string;
  /** From Docker: running, exited, …, or missing when the service has no container. Live only. */
  state?: string;
  /** The container's health, null without a healthcheck. Live only. */
  health?: string | null;
  /** The IP on the env network: live in status/up, as recorded at the last up in list; null when none. */
  ip: string | null;
  /** The names that answer with this service's IP. */
  dns: string[];
  /** The gateway URLs of this service (docs/routing.md). */
  urls: string[];
  sharing: "shared" | "isolated";
  ingress: boolean;
}

/**
 * The one env object every machine output and front end gives (`cilo list`, `status`, `create`,
 * `up`, `down`, `path`, the library, `cilo mcp`): docs/json.md, schema/cilo.env.schema.json.
 */
export interface EnvView {
  schema_version: typeof ENV_SCHEMA_VERSION;
  project: string;
  name: string;
  status: EnvStatus;
  subnet: string;
  /** Subnets of the env's copies of networks that fix one in ipam, by network key. */
  extra_subnets: Record<string, string>;
  /** The env's compose project and network name. */
  network: string;
  workspace: string;
  base_url: string;
  created_at: string;
  updated_at: string;
  last_used_at?: string;
  source?: EnvSource;
  services: ServiceView[];
  /** Names of the services the project's shared instance provides. */
  shared_services: string[];
  /** Envs whose network this env joins, and envs that join this env's network (SPEC §8). */
  shared_networks: string[];
  dependants: string[];
  /** TCP forwards of a running env (docs/routing.md "TCP services"): `address:host_port` reaches the service's `port`. */
  forwards: { service: string; port: number; address: string; host_port: number; variable: string }[];
  /** The host (`cilo host add`) the env runs on; absent: this machine's engine (docs/remote.md). */
  host?: string;
  /** With `host`: the env's workspace there, that `cilo sync` pushes to. */
  remote_workspace?: string;
  /** With `host`, read live (status, up): how this machine reaches its names and TCP forwards (docs/remote.md "Names"). */
  reach?: EnvReachView;
  /** For throwaway envs: the pid whose death destroys the env. */
  owner_pid?: number;
  /** What holds that lease: `mcp` for an env an MCP session created (absent: a process, `--ephemeral`). */
  lease?: "mcp";
  /** `cilo create --ttl`: when the env is destroyed whatever happens. */
  expires_at?: string;
  operation?: OperationMarker;
  error?: string;
}

/** What `cilo destroy --json` prints (schema/cilo.destroy.schema.json). */
export interface DestroyView {
  schema_version: typeof ENV_SCHEMA_VERSION;
  /** The env as it was asked for. */
  ref: string;
  /** False when there was no such env (with force). */
  destroyed: boolean;
  project?: string;
  name?: string;
  workspace_kept?: boolean;
}

/** What `cilo run <command> <env> --json` prints (schema/cilo.run-result.schema.json). */
export interface RunResult {
  schema_version: 1;
  project: string;
  name: string;
  workspace: string;
  command: string;
  /** The command's exit code; 128 + the signal's number when a signal ended it. */
  exit_code: number;
  duration_ms: number;
  /** With `output: "capture"`. */
  stdout?: string;
  stderr?: string;
}

/**
 * How this machine reaches an env on a host (docs/remote.md "Names of remote envs"): its ssh
 * forward (and whether it runs), the host's own gateway at its address (and whether it runs there),
 * or not at all (why).
 */
export type EnvReachView =
  | { via: "ssh-forward"; running: boolean; pid?: number }
  | { via: "remote-gateway"; running: boolean; address: string; http_port: number }
  | { via: "none"; running: false; why: string };
