import type { ContainerState, NetworkState, VolumeState } from "../runtime/provider.ts";
import type { State } from "../state/schema.ts";

/** What doctor reports of the layout: see `inspectLayout` (state/store.ts). */
export interface LayoutProblems {
  badRecords: { key: string; file: string; message: string }[];
  missing: string[];
  stale: string[];
  orphans: { key: string; file: string }[];
}

/** A file or folder with its age (now minus its modification time). */
export interface AgedPath {
  path: string;
  ageMs: number;
}

export type StateFact =
  | {
      kind: "ok";
      state: State /** The schema version written in the file (older ones are migrated on read). */;
      versionOnDisk: number;
      /** Problems of the per-env record files and the index (docs/state.md, "Layout"); absent: none. */
      layout?: LayoutProblems;
    }
  | { kind: "missing"; message: string }
  | { kind: "too-new"; message: string }
  | { kind: "corrupt"; message: string /** The backup, when it holds a valid state. */; backup?: string };

export type DockerFact =
  | { kind: "ok"; containers: ContainerState[]; networks: NetworkState[]; volumes: VolumeState[] }
  | { kind: "unreachable"; message: string };

export interface DnsFact {
  /** Why dnsmasq cannot be used, when it is not installed. */
  missing?: string;
  running: boolean;
  answering: boolean;
  /** What dnsmasq serves is what the state renders to. */
  inSync: boolean;
  /** Names the state gives dnsmasq to serve (absent when it could not be rendered). */
  names?: number;
  port: number;
  suffixes: string[];
  resolver: "set-up" | "not-set-up" | "unsupported";
  /** dnsmasq processes of this home that its dns folder does not record (`dns-stray`): pid and config. */
  strays?: { pid: number; config: string }[];
}

/** A one-line result of a prerequisite check, shown by `cilo doctor`. */
export interface Check {
  name: string;
  ok: boolean;
  /** Works, but something a user may expect is missing (shown as `warn`; never changes the exit code). */
  warn?: boolean;
  detail: string;
}

/**
 * Everything reconciliation judges, read at one moment. Docker and the disk are read before the
 * state, so a resource made after the state was read cannot look orphaned.
 */
export interface ReconcileFacts {
  home: string;
  /** `$CILO_HOME/envs` as written and as the real path (compose records either). */
  envsRoots: string[];
  checks: Check[];
  state: StateFact;
  docker: DockerFact;
  /** The engines of the hosts envs run on (`cilo create --on`), by host name, each read like `docker`. */
  hostDocker?: Record<string, DockerFact>;
  composeMissing?: string;
  dns?: DnsFact;
  /** `<project>/<env>` of every workspace folder under `$CILO_HOME/envs`. */
  workspaces: string[];
  /** Leftovers of `cilo create --git` under `$CILO_HOME/envs/.staging`. */
  staging: AgedPath[];
  /** Folders of snapshots being made or removed (`snapshots/.tmp-*`), with their maker's pid. */
  snapshotTemps?: (AgedPath & { pid?: number })[];
  /** Temp files of atomic writes; `pid` is the writer's, read from the name. */
  tmpFiles: (AgedPath & { pid?: number })[];
  /** Lock folders (`*.lock`) of the state, DNS and reaper files. */
  locks: AgedPath[];
  /** Owner pids that a live reaper watches. */
  watchedOwners: number[];
  /** Projects with a shared-instance folder under `$CILO_HOME/shared` (resources of those are this home's). */
  sharedProjects: string[];
  /** How long an unused shared service may keep running. */
  sharedGraceMs: number;
  /** When the facts were gathered (ms since the epoch). */
  now: number;
  /**
   * Other homes on this machine that still exist, by folder: named by the resources of other
   * homes (`cilo.home.path`, or an unlabelled container's compose folder), whose `state.json`
   * is there with that home's id. Resources of those are left to their home.
   */
  liveHomes: string[];
  /** The gateway is judged only when this is true (not with `CILO_GATEWAY=off`). */
  gatewayEnabled?: boolean;
  /** `<project>/<env>` of running envs on hosts whose ssh forward (names, TCP forwards) is not running as the state wants (docs/remote.md "Names"). */
  tunnelsDown?: string[];
  /**
   * Hosts this machine reaches through a gateway and forward containers on their own engine
   * (`tcp://`, `reach.via: "remote-gateway"`, gateway/host-reach.ts); absent with `CILO_GATEWAY=off`.
   */
  remoteGatewayHosts?: string[];
  /** Compose project names with a compose process still running. */
  composeBusy: string[];
  /** Whether a process runs (and, given `startedBefore`, is not a newer one that reused the pid). */
  alive: (pid: number, startedBefore?: number) => boolean;
}
