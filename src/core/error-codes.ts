/**
 * Every error code cilo throws: its exit class (the exit code a `CiloError` with it gets unless the
 * thrower passes another) and one line saying what it means. `CiloError` accepts only these codes.
 * Codes are stable: scripts match on them; docs/ may name them.
 */
export const ERROR_CODES = {
  // Usage and input (exit 2).
  E_USAGE: { exit: "usage", doc: "bad command-line usage or an invalid setting" },
  E_ABORTED: { exit: "failure", doc: "the user answered no to a confirmation; nothing was done" },
  E_CONFIG_INVALID: { exit: "usage", doc: "the project's cilo config file cannot be parsed or has a wrong value" },
  E_DURATION_INVALID: { exit: "usage", doc: "a duration is not written like 30s, 5m or 1h" },
  E_EXPRESSION: { exit: "usage", doc: "a ${{ }} expression of a workflow cannot be parsed or evaluated" },
  E_RENDER_FILE: { exit: "usage", doc: "an env.render file is missing, outside the project or not text" },

  // Workflows.
  E_WORKFLOW_NOT_FOUND: { exit: "usage", doc: "the workflow file does not exist" },
  E_WORKFLOW_UNREADABLE: { exit: "usage", doc: "the workflow file cannot be read" },
  E_WORKFLOW_INVALID: { exit: "usage", doc: "the workflow file breaks its schema or rules" },
  E_WORKFLOW_FAILED: { exit: "failure", doc: "a workflow run failed (its exit code is the run's)" },
  E_STEP_FAILED: { exit: "failure", doc: "a workflow step failed" },
  E_STEP_CWD: { exit: "failure", doc: "a step's working folder does not exist" },
  E_STEP_OUTPUT: { exit: "failure", doc: "a step's $CILO_OUTPUT file cannot be read" },
  E_STEP_TIMEOUT: { exit: "failure", doc: "a step ran past its timeout" },
  E_CLEANUP_TIMEOUT: { exit: "failure", doc: "the clean-up steps ran past the clean-up time" },
  E_NO_ENV: { exit: "failure", doc: "a workflow step needs an env but none was created before it" },
  E_WAIT_FAILED: { exit: "failure", doc: "a wait can never succeed (e.g. the service exited)" },
  E_WAIT_TIMEOUT: { exit: "failure", doc: "a wait or readiness check timed out" },
  E_SERVICE_FAILED: { exit: "failure", doc: "a service of the env failed to start or become ready" },
  E_INTERRUPTED: { exit: "interrupted", doc: "interrupted by a signal (130 for SIGINT, 143 for SIGTERM)" },

  // Prerequisites (exit 3).
  E_NOT_INITIALISED: { exit: "prerequisite", doc: "state.json does not exist: run cilo init" },
  E_DOCKER_UNAVAILABLE: { exit: "prerequisite", doc: "the Docker engine does not answer" },
  E_ENGINE_MISMATCH: {
    exit: "prerequisite",
    doc: "the engine answering is not the one CILO_ENGINE or cilo init --engine names, or not the one an env runs on",
  },
  E_DOCKER_LOST: { exit: "prerequisite", doc: "the Docker engine stopped answering during a compose call" },
  E_COMPOSE_MISSING: { exit: "prerequisite", doc: "no compose CLI answers `version`" },
  E_DNSMASQ_MISSING: { exit: "prerequisite", doc: "dnsmasq is not installed" },
  E_DNS_PORT_TAKEN: { exit: "prerequisite", doc: "another process holds cilo's DNS port" },
  E_GATEWAY_PORT_TAKEN: {
    exit: "prerequisite",
    doc: "another program holds a port the gateway publishes (cilo init --gateway-http-port / --gateway-https-port change them)",
  },
  E_GIT_MISSING: { exit: "prerequisite", doc: "git is not installed" },
  E_NEEDS_ROOT: { exit: "prerequisite", doc: "cilo dns setup (or cilo trust) needs root" },
  E_RESOLVER_UNKNOWN: { exit: "prerequisite", doc: "no supported system resolver was found for cilo dns setup" },
  E_TRUST_UNKNOWN: { exit: "prerequisite", doc: "no supported trust store was found for cilo trust" },

  // Docker and compose.
  E_DOCKER: { exit: "failure", doc: "the Docker engine refused a request" },
  E_DOCKER_CONFLICT: { exit: "failure", doc: "a container or network of that name exists already" },
  E_DOCKER_PORT_TAKEN: { exit: "failure", doc: "a port a container publishes is in use on the host" },
  E_FORWARD_RANGE_FULL: { exit: "failure", doc: "no host port of the TCP forward range is free (cilo init --forward-ports widens it)" },
  E_GATEWAY: { exit: "failure", doc: "the gateway container could not be made, started or configured" },
  E_TRUST_UPDATE: { exit: "failure", doc: "the trust store's update command (update-ca-certificates, update-ca-trust) failed" },
  E_DOCKER_CONFIG: { exit: "usage", doc: "the Docker config file is not valid JSON" },
  E_DOCKER_CONTEXT: { exit: "usage", doc: "the Docker context is invalid or has no endpoint (exit 3 when its files are missing)" },
  E_DOCKER_HOST: { exit: "usage", doc: "DOCKER_HOST or the context's host is not a valid address" },
  E_COMPOSE: { exit: "failure", doc: "a compose command failed" },
  E_COMPOSE_INVALID: { exit: "usage", doc: "compose config refused the project, or its model cannot be used (bad shape, no model)" },
  E_IMAGE_PULL: { exit: "failure", doc: "compose could not pull the image of a service (the message names both)" },
  E_NETWORK_MODE: { exit: "usage", doc: "a service uses a network_mode that defeats isolation" },
  E_NETWORK_READDRESS: { exit: "usage", doc: "a network's fixed addresses cannot be moved into the env's subnet" },
  E_NETWORK_MISMATCH: { exit: "failure", doc: "the env's network exists with another subnet than recorded" },
  E_SUBNET_POOL: { exit: "failure", doc: "the subnet pool or size is not valid" },
  E_SUBNET_POOL_EXHAUSTED: { exit: "failure", doc: "the subnet pool has no free subnet left (exit 2 for a network that fixes its subnet)" },
  E_SUBNET_NOT_ALLOCATED: { exit: "failure", doc: "no subnet was allocated for a network that fixes one" },

  // Envs and shared services.
  E_ENV_BUSY: { exit: "failure", doc: "another cilo process is working on the env" },
  E_ENV_IN_USE: { exit: "failure", doc: "other envs join the env's network" },
  E_ENV_VANISHED: { exit: "failure", doc: "the env was removed while this command worked on it" },
  E_SHARED_IN_USE: { exit: "failure", doc: "a shared service still has users" },
  E_SHARED_DEPENDS: { exit: "usage", doc: "a shared service depends on a service that is not shared" },
  E_SHARED_NETWORK_MODE: { exit: "usage", doc: "a service shares the network of a shared service" },
  E_SHARED_VANISHED: { exit: "failure", doc: "a project's shared instance was removed while its services were starting" },
  E_REAPER: { exit: "failure", doc: "the reaper of throwaway envs could not be started" },

  // Workspaces and git.
  E_WORKSPACE_EXISTS: { exit: "usage", doc: "the workspace folder already exists" },
  E_WORKSPACE_DIRTY: { exit: "usage", doc: "the workspace has uncommitted changes (use --force)" },
  E_WORKSPACE_UNSAVED: { exit: "usage", doc: "the workspace holds work that destroy would lose" },
  E_WORKSPACE_UNSAFE: { exit: "failure", doc: "refusing to remove a folder that is not a workspace cilo may delete" },
  E_WORKSPACE_REMOVE: { exit: "failure", doc: "the workspace folder could not be removed" },
  E_GIT_FAILED: { exit: "failure", doc: "a git command failed" },
  E_GIT_REF: { exit: "usage", doc: "the git ref is not a branch, tag or commit of the repository" },
  E_NOT_A_GIT_REPO: { exit: "usage", doc: "worktree mode needs the project folder to be a git repository" },
  E_WORKTREE_SUBFOLDER: { exit: "usage", doc: "worktree mode needs the repository's root folder" },
  E_WORKTREE_NO_COMMIT: { exit: "usage", doc: "worktree mode needs a repository with a commit" },
  E_WORKTREE_BRANCH_EXISTS: { exit: "usage", doc: "the env's worktree branch already exists" },

  // DNS.
  E_DNS_START: { exit: "failure", doc: "dnsmasq did not start or does not answer" },
  E_DNS_LOCK_LOST: {
    exit: "failure",
    doc: "the DNS lock was taken over while held (the command stalled for over 5 s); it started and stopped no dnsmasq after that",
  },
  E_DNS_COLLISION: { exit: "usage", doc: "two envs would answer one DNS name with different addresses" },
  E_DNS_INVALID_NAME: { exit: "usage", doc: "a name is not valid in DNS" },
  E_DNS_INVALID_SUFFIX: { exit: "usage", doc: "a DNS suffix is not valid" },
  E_DNS_INVALID_IP: { exit: "usage", doc: "a DNS setting is not an IP address" },
  E_DNS_INVALID_VALUE: { exit: "usage", doc: "a DNS setting (port, path, upstream) is not valid" },

  // State and files under $CILO_HOME.
  E_STATE_READ: { exit: "failure", doc: "state.json cannot be read" },
  E_STATE_CORRUPT: { exit: "failure", doc: "state.json is not JSON or fails validation (cilo doctor --fix restores the backup)" },
  E_STATE_INVALID: { exit: "failure", doc: "refusing to write a state that fails validation" },
  E_STATE_VERSION: { exit: "failure", doc: "the state's schema version cannot be migrated (exit 3 when a newer cilo wrote it)" },
  E_STATE_LOCK_LOST: { exit: "failure", doc: "the state lock was taken over while held; nothing was written" },
  E_LOCKED: { exit: "failure", doc: "a lock cannot be taken: another cilo command holds it, or it cannot be made" },
  E_FS_ENOSPC: { exit: "failure", doc: "a write failed: the disk is full" },
  E_FS_EDQUOT: { exit: "failure", doc: "a write failed: the disk quota is used up" },
  E_FS_EROFS: { exit: "failure", doc: "a write failed: the file system is read-only" },
  E_FS_EACCES: { exit: "failure", doc: "a file operation failed: permission denied" },
  E_FS_EPERM: { exit: "failure", doc: "a file operation failed: not permitted" },

  // Doctor.
  E_NO_FIX: { exit: "failure", doc: "a doctor finding has no automatic fix" },
  E_NOT_CILO: { exit: "failure", doc: "doctor left a Docker resource alone: it has no cilo labels" },
  E_NOT_OURS: { exit: "failure", doc: "doctor left a Docker resource alone: it belongs to another CILO_HOME" },

  // Agents (cilo mcp, issue 15).
  E_DIFF_UNSUPPORTED: { exit: "usage", doc: "env_diff needs a git workspace (a worktree or a git clone)" },
  E_NOT_LEASED: { exit: "usage", doc: "an MCP session touched an env it did not create (start cilo mcp with --all-envs)" },
  // Snapshots (docs/snapshots.md).
  E_SNAPSHOT_NOT_FOUND: { exit: "usage", doc: "no snapshot of that name exists (cilo snapshot list)" },
  E_SNAPSHOT_EXISTS: { exit: "usage", doc: "a snapshot of that name exists already" },
  E_SNAPSHOT_EMPTY: { exit: "usage", doc: "the env has no named volume to snapshot (or none of those asked for)" },
  E_SNAPSHOT_BUSY: { exit: "usage", doc: "the env's services run: restore needs --stop, or the env stopped first" },
  E_SNAPSHOT_COPY: { exit: "failure", doc: "copying a volume's data failed (nothing half-made is kept)" },
  // Remote hosts (docs/remote.md, issue 17).
  E_HOST_INVALID: { exit: "usage", doc: "a host name, address, Docker context or TLS folder given to cilo host is not valid" },
  E_HOST_EXISTS: { exit: "usage", doc: "a host of that name is recorded already (cilo host list)" },
  E_HOST_NOT_FOUND: { exit: "usage", doc: "no host of that name is recorded (cilo host list)" },
  E_HOST_IN_USE: { exit: "failure", doc: "envs run on the host: destroy them before cilo host rm" },
  E_HOST_UNREACHABLE: { exit: "prerequisite", doc: "a host's engine or compose does not answer; the message names the host and the check" },
  E_HOST_NO_SSH: { exit: "usage", doc: "what needs SSH (cilo sync --pull, cilo run --remote) was asked of a host that is not ssh:// (nor a context of one)" },
  E_SYNC_FAILED: { exit: "failure", doc: "rsync of an env's workspace to or from its host failed (the remote workspace keeps whole files)" },
  // Per-env databases on a shared server (docs/data.md).
  E_DB_ENGINE: { exit: "usage", doc: "per_env: database is asked of a service that is not PostgreSQL (the only engine supported)" },
  E_DB_TEMPLATE_MISSING: { exit: "usage", doc: "the template database of a per-env database does not exist on the shared server" },
  E_DB_FAILED: { exit: "failure", doc: "creating or dropping an env's database on the shared server failed" },

  E_INTERNAL: { exit: "failure", doc: "a bug or a broken install of cilo" },
} as const satisfies Record<`E_${string}`, { exit: ExitClass; doc: string }>;

/** Exit classes of SPEC §6 (see ExitCode in errors.ts). */
export type ExitClass = "failure" | "usage" | "prerequisite" | "interrupted";

export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `code` is one of cilo's error codes. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}
