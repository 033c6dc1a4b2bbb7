import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { CiloContext } from "../context/context.ts";
import { CiloError, ExitCode } from "../errors.ts";
import { DEFAULT_REMOTE_ROOT, remoteRootProblem, remoteWorkspacePath, remoteWorkspaceProblem } from "../host-address.ts";
import { run, type RunResult } from "../proc/run.ts";
import type { EnvRecord, HostRecord, State } from "../state/schema.ts";
import { findHost, hostEndpoint, hostUnreachable, reasonOf } from "./hosts.ts";
import { rsyncFilterRules, rsyncRemote, sshTarget } from "./remote-paths.ts";

// An env's workspace on its host (docs/remote.md, "Remote workspace"): made and pushed with rsync
// over the same `ssh` the engine calls use (the ssh on PATH: the user's config, agent, known_hosts
// and connection sharing), pulled back, and removed by destroy. Only ssh:// hosts (or Docker
// contexts of one) have it: a tcp:// host is refused with E_HOST_NO_SSH.

/** A host reached over SSH: its name and the ssh:// address its engine (and so rsync) uses. */
export interface SshHost {
  name: string;
  address: string;
  rec: HostRecord;
}

/** The host `name` as an SSH host; E_HOST_NO_SSH (exit 2) for a tcp:// one. */
export function sshHost(ctx: Pick<CiloContext, "env">, state: State, name: string): SshHost {
  const rec = findHost(state, name);
  const endpoint = hostEndpoint(ctx, name, rec);
  if (!endpoint.host.startsWith("ssh://")) {
    throw new CiloError("E_HOST_NO_SSH", `host ${name} (${endpoint.host}) has no SSH: cilo puts an env's workspace on its host with rsync over ssh only`, {
      exitCode: ExitCode.usage,
      hint: `Add the machine as ssh://user@host (cilo host add <name> ssh://…) to run envs there`,
    });
  }
  return { name, address: endpoint.host, rec };
}

function ssh(ctx: CiloContext, host: SshHost, command: string): Promise<RunResult> {
  const t = sshTarget(host.address);
  return run("ssh", [...t.options, "-T", "--", t.host, command], { env: { ...ctx.env } });
}

/**
 * The host's remote root: its `--remote-root`, else `~/.cilo-remote` of the SSH user, resolved to
 * an absolute path on the host (bind mounts need one) and validated like an explicit one.
 * E_HOST_UNREACHABLE when ssh does not answer.
 */
export async function remoteRoot(ctx: CiloContext, host: SshHost): Promise<string> {
  if (host.rec.remote_root !== undefined) return host.rec.remote_root;
  const r = await ssh(ctx, host, 'printf %s "$HOME"');
  if (r.code !== 0) throw hostUnreachable(host.name, { host: host.address, source: `host ${host.name}` }, "ssh", lastLine(r));
  const root = `${r.stdout.trim()}${DEFAULT_REMOTE_ROOT.slice(1)}`;
  const why = remoteRootProblem(root);
  if (why) {
    throw new CiloError("E_HOST_INVALID", `host ${host.name}: ${why} (the SSH user's home + /.cilo-remote)`, {
      exitCode: ExitCode.usage,
      hint: `Give the host a root of its own: cilo host rm ${host.name}, then cilo host add ${host.name} ${host.address} --remote-root /srv/cilo-remote`,
    });
  }
  return root;
}

/** `<root>/<project>/<env>` of an env on `host`. */
export async function remoteWorkspaceFor(ctx: CiloContext, host: SshHost, project: string, env: string): Promise<string> {
  return remoteWorkspacePath(await remoteRoot(ctx, host), project, env);
}

/** The env's recorded remote workspace, checked again before any command uses it. */
function checkedRemote(rec: EnvRecord): string {
  const why = remoteWorkspaceProblem(rec.remote_workspace, rec.project, rec.name);
  if (why || !rec.remote_workspace) {
    throw new CiloError("E_STATE_CORRUPT", `The env ${rec.project}/${rec.name} has a remote workspace that ${why ?? "is missing"}`, {
      hint: "Run cilo doctor",
    });
  }
  return rec.remote_workspace;
}

export interface SyncResult {
  direction: "push" | "pull";
  host: string;
  local: string;
  remote: string;
  ms: number;
}

/**
 * Pushes the local workspace to the remote one (or pulls it back with `pull`): rsync over ssh,
 * incremental; a push propagates deletions (`--delete-delay`); every changed file is written
 * under a temporary name and all are renamed at the end (`--delay-updates`), so a container never
 * reads half a file and an interrupted sync leaves whole files to resume from. `.ciloignore`
 * lines are honoured (`rsyncFilterRules`); `.cilo/` and `.git` stay here. A pull deletes nothing here.
 */
export async function syncWorkspace(ctx: CiloContext, state: State, rec: EnvRecord, opts: { pull?: boolean; signal?: AbortSignal } = {}): Promise<SyncResult> {
  if (!rec.host)
    throw new CiloError("E_USAGE", `The env ${rec.project}/${rec.name} runs on this machine: there is nothing to sync`, { exitCode: ExitCode.usage });
  const host = sshHost(ctx, state, rec.host);
  const remote = checkedRemote(rec);
  const ignore = join(rec.workspace, ".ciloignore");
  const filters = rsyncFilterRules(existsSync(ignore) ? readFileSync(ignore, "utf8") : "").map((r) => `--filter=${r}`);
  const t = sshTarget(host.address);
  const shell = ["ssh", ...t.options].join(" ");
  const there = rsyncRemote(t.host, `${remote}/`);
  const args = [
    "-rlptD",
    "--delay-updates",
    ...(opts.pull ? [] : ["--delete-delay", "--mkpath"]),
    ...filters,
    "-e",
    shell,
    "--",
    ...(opts.pull ? [there, `${rec.workspace}/`] : [`${rec.workspace}/`, there]),
  ];
  const r = await run("rsync", args, { env: { ...ctx.env }, ...(opts.signal ? { signal: opts.signal } : {}) });
  if (r.code === 127) {
    throw new CiloError("E_SYNC_FAILED", "rsync is not installed on this machine: cilo syncs a remote env's workspace with it", {
      exitCode: ExitCode.prerequisite,
      hint: "Install rsync here and on the host (apt-get install rsync)",
    });
  }
  // ssh failing: 255, or 12 when rsync saw its stream end first; ssh's own line says why.
  if (r.code === 255 || (r.code === 12 && /^ssh: /m.test(r.stderr)))
    throw hostUnreachable(host.name, { host: host.address, source: `host ${host.name}` }, "ssh", sshLine(r));
  if (r.code !== 0) {
    throw new CiloError(
      "E_SYNC_FAILED",
      `${opts.pull ? "Pulling" : "Pushing"} the workspace of ${rec.project}/${rec.name} ${opts.pull ? "from" : "to"} host ${host.name} failed: ${lastLine(r)}`,
      {
        hint: /command not found|rsync: not found|No such file or directory.*rsync/i.test(r.stderr)
          ? "Install rsync on the host too"
          : "Run cilo sync again: it resumes",
      },
    );
  }
  return { direction: opts.pull ? "pull" : "push", host: host.name, local: rec.workspace, remote, ms: r.ms };
}

/**
 * Removes the env's remote workspace: exactly `<root>/<project>/<env>` as recorded and validated,
 * then the project folder when it is left empty. Nothing else on the host is touched.
 */
export async function removeRemoteWorkspace(ctx: CiloContext, state: State, rec: EnvRecord): Promise<void> {
  if (!rec.host || rec.remote_workspace === undefined) return;
  const host = sshHost(ctx, state, rec.host);
  const remote = checkedRemote(rec);
  const parent = remote.slice(0, remote.lastIndexOf("/"));
  const r = await ssh(ctx, host, `rm -rf -- '${remote}' && { rmdir -- '${parent}' 2>/dev/null || true; }`);
  if (r.code === 255) throw hostUnreachable(host.name, { host: host.address, source: `host ${host.name}` }, "ssh", lastLine(r));
  if (r.code !== 0) throw new CiloError("E_SYNC_FAILED", `Removing ${remote} on host ${host.name} failed: ${lastLine(r)}`);
}

/** What ssh said when rsync's connection failed (rsync's own "code 255" line says nothing). */
function sshLine(r: RunResult): string {
  const said = r.stderr.split("\n").filter((l) => l.trim() && !/^rsync(: | error:)/.test(l));
  return said.length > 0 ? said[said.length - 1]!.trim() : lastLine(r);
}

function lastLine(r: RunResult): string {
  return reasonOf(new Error((r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`).split("\n").filter(Boolean).pop()!));
}
