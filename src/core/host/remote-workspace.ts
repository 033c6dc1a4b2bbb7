import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { CiloContext } from "../context/context.ts";
import { CiloError, ExitCode, isCiloError } from "../errors.ts";
import { DEFAULT_REMOTE_ROOT, remoteRootProblem, remoteWorkspacePath, remoteWorkspaceProblem } from "../host-address.ts";
import { run, type RunResult } from "../proc/run.ts";
import type { EnvRecord, State } from "../state/schema.ts";
import { homeRef } from "../state/store.ts";
import type { HelperOptions } from "./tar-sync.ts";
import { syncPlan } from "./tar-sync-plan.ts";
import { forgetPushManifest, localManifest, readPushManifest, stagePushManifest } from "./workspace-manifest.ts";
import { hostUnreachable, reasonOf, remoteHost, type RemoteHost } from "./hosts.ts";

export { remoteHost, type RemoteHost };
import { rsyncFilterRules, rsyncRemote, sshTarget } from "./remote-paths.ts";

// An env's workspace on its host (docs/remote.md, "Remote workspace"): made and pushed, pulled
// back, and removed by destroy. On an ssh:// host (or a Docker context of one) with rsync over the
// same `ssh` the engine calls use (the ssh on PATH: the user's config, agent, known_hosts and
// connection sharing); on a host without SSH (tcp://) through the engine's archive API and a
// helper container (tar-sync.ts).

/** Where workspaces go on a host without SSH when it has no `--remote-root` (there is no SSH user's home to ask). */
export const ENGINE_REMOTE_ROOT = "/var/lib/cilo-remote";

/** E_HOST_NO_SSH (exit 2): what needs SSH (`what`) asked of a host without it. */
export function needsSsh(host: RemoteHost, what: string): CiloError {
  return new CiloError("E_HOST_NO_SSH", `host ${host.name} (${host.address}) has no SSH: ${what} needs an ssh:// host`, {
    exitCode: ExitCode.usage,
    hint: `Add the machine as ssh://user@host too (cilo host add <name> ssh://…)`,
  });
}

function ssh(ctx: CiloContext, host: RemoteHost, command: string): Promise<RunResult> {
  const t = sshTarget(host.address);
  return run("ssh", [...t.options, "-T", "--", t.host, command], { env: { ...ctx.env } });
}

/**
 * The host's remote root: its `--remote-root`, else `~/.cilo-remote` of the SSH user, resolved to
 * an absolute path on the host (bind mounts need one) and validated like an explicit one.
 * E_HOST_UNREACHABLE when ssh does not answer.
 */
export async function remoteRoot(ctx: CiloContext, host: RemoteHost): Promise<string> {
  if (host.rec.remote_root !== undefined) return host.rec.remote_root;
  if (!host.ssh) return ENGINE_REMOTE_ROOT;
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
export async function remoteWorkspaceFor(ctx: CiloContext, host: RemoteHost, project: string, env: string): Promise<string> {
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
export async function syncWorkspace(
  ctx: CiloContext,
  state: State,
  rec: EnvRecord,
  opts: { pull?: boolean; signal?: AbortSignal; incremental?: boolean } = {},
): Promise<SyncResult> {
  if (!rec.host)
    throw new CiloError("E_USAGE", `The env ${rec.project}/${rec.name} runs on this machine: there is nothing to sync`, { exitCode: ExitCode.usage });
  const host = remoteHost(ctx, state, rec.host);
  const remote = checkedRemote(rec);
  const ignore = join(rec.workspace, ".ciloignore");
  const ignoreText = existsSync(ignore) ? readFileSync(ignore, "utf8") : "";
  if (!host.ssh) {
    if (opts.pull) throw needsSsh(host, "cilo sync --pull");
    const started = Date.now();
    const { tarPush } = await import("./tar-sync.ts");
    await onEngine(host, async () => {
      const root = remote.slice(0, remote.length - `/${rec.project}/${rec.name}`.length);
      await tarPush(await helperOf(ctx, state, host, root, opts.signal), rec.workspace, remote, ignoreText);
    });
    return { direction: "push", host: host.name, local: rec.workspace, remote, ms: Date.now() - started };
  }
  const t = sshTarget(host.address);
  const shell = ["ssh", ...t.options].join(" ");
  const there = rsyncRemote(t.host, `${remote}/`);
  // The manifest of this push is listed before rsync reads the file list: a file changed while
  // rsync runs has a newer mtime than listed, so the next push sends it again.
  const target = `${host.address} ${remote}`;
  const last = !opts.pull && opts.incremental ? readPushManifest(rec.workspace, target) : undefined;
  let args: string[];
  let list: { resolve(s: string): void; reject(e: unknown): void; promise: Promise<string> } | undefined;
  if (last) {
    // Incremental: only what changed here since the last push, named to rsync on stdin (no walk of
    // either tree); what is gone here is named too and deleted there (--delete-missing-args;
    // --force for a folder of the last push that still holds files). rsync starts first and opens
    // its ssh connection while the workspace is walked.
    list = deferred<string>();
    args = [
      "-lptD",
      "--delay-updates",
      "--mkpath",
      "--files-from=-",
      "--from0",
      "--delete-missing-args",
      "--force",
      "-e",
      shell,
      "--",
      `${rec.workspace}/`,
      there,
    ];
  } else {
    const filters = rsyncFilterRules(ignoreText).map((r) => `--filter=${r}`);
    args = [
      "-rlptD",
      "--delay-updates",
      ...(opts.pull ? [] : ["--delete-delay", "--mkpath"]),
      ...filters,
      "-e",
      shell,
      "--",
      ...(opts.pull ? [there, `${rec.workspace}/`] : [`${rec.workspace}/`, there]),
    ];
  }
  const running = run("rsync", args, { env: { ...ctx.env }, ...(list ? { input: list.promise } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  let staged: ReturnType<typeof stagePushManifest> | undefined;
  try {
    const now = opts.pull ? undefined : localManifest(rec.workspace, ignoreText);
    if (list && now && last) {
      const plan = syncPlan(now, last);
      const newDirs = plan.mkdirs.filter((d) => last.entries[d]?.t !== "d");
      list.resolve([...plan.send, ...newDirs, ...plan.remove, ...plan.rmdirs].map((p) => `${p}\0`).join(""));
    }
    if (now) staged = stagePushManifest(rec.workspace, target, now);
  } catch (e) {
    list?.reject(e);
    await running;
    throw e;
  }
  const r = await running;
  // 24: a file named vanished before it was sent (deleted here meanwhile; a deleted folder says so too): the next push sees it.
  if (r.code === 24 && list) r.code = 0;
  if (r.code !== 0) staged?.drop();
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
  if (staged) staged.commit();
  else forgetPushManifest(rec.workspace); // the host's files came back: the next push compares everything
  return { direction: opts.pull ? "pull" : "push", host: host.name, local: rec.workspace, remote, ms: r.ms };
}

/**
 * Removes the env's remote workspace: exactly `<root>/<project>/<env>` as recorded and validated,
 * then the project folder when it is left empty. Nothing else on the host is touched.
 */
export async function removeRemoteWorkspace(ctx: CiloContext, state: State, rec: EnvRecord): Promise<void> {
  if (!rec.host || rec.remote_workspace === undefined) return;
  const host = remoteHost(ctx, state, rec.host);
  const remote = checkedRemote(rec);
  if (!host.ssh) {
    const { tarRemove } = await import("./tar-sync.ts");
    const root = remote.slice(0, remote.length - `/${rec.project}/${rec.name}`.length);
    await onEngine(host, async () => tarRemove(await helperOf(ctx, state, host, root), remote));
    return;
  }
  const parent = remote.slice(0, remote.lastIndexOf("/"));
  const r = await ssh(ctx, host, `rm -rf -- '${remote}' && { rmdir -- '${parent}' 2>/dev/null || true; }`);
  if (r.code === 255) throw hostUnreachable(host.name, { host: host.address, source: `host ${host.name}` }, "ssh", lastLine(r));
  if (r.code !== 0) throw new CiloError("E_SYNC_FAILED", `Removing ${remote} on host ${host.name} failed: ${lastLine(r)}`);
}

/** The engine of `host` as a workspace helper's: the provider bound to it, the home's labels, the root it mounts. */
async function helperOf(ctx: CiloContext, state: State, host: RemoteHost, root: string, signal?: AbortSignal): Promise<HelperOptions> {
  return { provider: await ctx.forEndpoint(host.endpoint).provider(), env: ctx.env, home: homeRef(state, ctx.home), root, ...(signal ? { signal } : {}) };
}

/** `fn` on the host's engine: an engine that stops answering is the one-line exit 3 naming the host. */
async function onEngine<T>(host: RemoteHost, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isCiloError(e) && e.code === "E_DOCKER_UNAVAILABLE") throw hostUnreachable(host.name, host.endpoint, "engine", reasonOf(e));
    throw e;
  }
}

function deferred<T>(): { resolve(v: T): void; reject(e: unknown): void; promise: Promise<T> } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { resolve, reject, promise };
}

/** What ssh said when rsync's connection failed (rsync's own "code 255" line says nothing). */
function sshLine(r: RunResult): string {
  const said = r.stderr.split("\n").filter((l) => l.trim() && !/^rsync(: | error:)/.test(l));
  return said.length > 0 ? said[said.length - 1]!.trim() : lastLine(r);
}

function lastLine(r: RunResult): string {
  return reasonOf(new Error((r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`).split("\n").filter(Boolean).pop()!));
}
