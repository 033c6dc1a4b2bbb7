import type { CiloContext } from "../context/context.ts";
import { CiloError, ExitCode, isCiloError } from "../errors.ts";
import { DEFAULT_REMOTE_ROOT, remoteRootProblem, remoteWorkspacePath, remoteWorkspaceProblem } from "../host-address.ts";
import { run, type RunResult } from "../proc/run.ts";
import { timing } from "../timeline.ts";
import type { EnvRecord, State } from "../state/schema.ts";
import { homeRef } from "../state/store.ts";
import type { HelperOptions } from "./tar-sync.ts";
import { applyScript, stageName, workspaceGone } from "./sync-script.ts";
import { listChanges, type Listed, pushTar, type WalkResult } from "./sync-walk.ts";
import { forgetPushManifest, pushTarget, readPushManifest, stagePushManifest } from "./push-manifest.ts";
import { type EarlyPush, type Receiver, startReceiver } from "./early-push.ts";
import { type FindRunner, type Listing, readCiloignore, startListing, systemFind } from "./find-listing.ts";
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
  /** The whole push or pull, from reading the manifest of the last push to the end. */
  ms: number;
  /** Of which the walk of the local workspace and its comparison with that manifest (a push over ssh). */
  walkMs?: number;
  /** What listed the local workspace: GNU find, or the walk from Node (docs/remote.md). */
  listedBy?: "find" | "walk";
  /** Files and symlinks sent (a push over ssh that compared with the last one). */
  sent?: number;
  /** Paths removed there (idem). */
  removed?: number;
  /** How the files went: one tar over ssh (a small change), or rsync. */
  via?: "tar" | "rsync";
}

/** A change of at most this many files and bytes goes as one tar over ssh; a larger one through rsync (its delta transfer pays off). */
const TAR_MAX_FILES = 1000;
const TAR_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Pushes the local workspace to the remote one (or pulls it back with `pull`), over the ssh on
 * PATH. `incremental` (cilo sync, --watch) with a manifest of the last push to this target: one
 * walk here compares with it, and a small change goes as one tar over ssh into a stage folder
 * there, renamed into place file by file (sync-script.ts); a large one through rsync, named on its
 * stdin. Otherwise rsync compares the whole trees. Either way deletions propagate (a push), each
 * changed file is written under a temporary name and renamed into place (rsync `--delay-updates`),
 * so a container never reads half a file and an interrupted sync leaves whole files to resume
 * from. `.ciloignore` lines are honoured; `.cilo/` and `.git` stay here. A pull deletes nothing here.
 */
export async function syncWorkspace(
  ctx: CiloContext,
  state: State,
  rec: EnvRecord,
  opts: { pull?: boolean; signal?: AbortSignal; incremental?: boolean; manifestLater?: boolean; early?: EarlyPush } = {},
): Promise<SyncResult & { recordManifest?: () => Promise<void> }> {
  try {
    return await syncOver(ctx, state, rec, opts);
  } finally {
    opts.early?.receiver?.cancel(); // not taken (a no-op once fed)
  }
}

async function syncOver(
  ctx: CiloContext,
  state: State,
  rec: EnvRecord,
  opts: { pull?: boolean; signal?: AbortSignal; incremental?: boolean; manifestLater?: boolean; early?: EarlyPush },
): Promise<SyncResult & { recordManifest?: () => Promise<void> }> {
  if (!rec.host)
    throw new CiloError("E_USAGE", `The env ${rec.project}/${rec.name} runs on this machine: there is nothing to sync`, { exitCode: ExitCode.usage });
  const started = Date.now();
  const host = remoteHost(ctx, state, rec.host);
  const remote = checkedRemote(rec);
  const ignoreText = readCiloignore(rec.workspace);
  if (!host.ssh) {
    if (opts.pull) throw needsSsh(host, "cilo sync --pull");
    const { tarPush } = await import("./tar-sync.ts");
    await onEngine(host, async () => {
      const root = remote.slice(0, remote.length - `/${rec.project}/${rec.name}`.length);
      await tarPush(await helperOf(ctx, state, host, root, opts.signal), rec.workspace, remote, ignoreText);
    });
    return { direction: "push", host: host.name, local: rec.workspace, remote, ms: Date.now() - started };
  }
  const t = sshTarget(host.address);
  const there = rsyncRemote(t.host, `${remote}/`);
  // The listing of this workspace starts first (GNU find in a process of its own on Linux):
  // it runs while the manifest is read and ssh starts.
  const find = systemFind(ctx.env, ctx.home);
  const push: SshPush = {
    ctx,
    host,
    rec,
    remote,
    ssh: t,
    target: pushTarget(host.address, remote),
    ignoreText,
    find,
    opts,
    started,
    rsync: (args, input) =>
      run("rsync", [...args, "-e", ["ssh", ...t.options].join(" "), "--", ...(opts.pull ? [there, `${rec.workspace}/`] : [`${rec.workspace}/`, there])], {
        env: { ...ctx.env },
        ...(input !== undefined ? { input } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      }),
  };
  // A listing the CLI began before this module loaded (env/sync-early.ts) is taken when it lists this
  // workspace under the same `.ciloignore`; else (the env or the file changed meanwhile) one begins now.
  const early = opts.early && opts.early.workspace === rec.workspace && opts.early.ignoreText === ignoreText ? opts.early : undefined;
  const listing = !opts.pull && opts.incremental ? (early?.listing ?? startListing(rec.workspace, ignoreText, find)) : undefined;
  const last = listing ? readPushManifest(rec.workspace, push.target) : undefined;
  if (listing && last) {
    const pushed = await pushChanges(push, listing, last, early ? opts.early?.receiver : undefined);
    if (pushed !== "workspace-gone") return pushed;
    // The host has no workspace where the manifest says it put one: the whole trees, listed again.
    return pushWhole(push, undefined);
  }
  return pushWhole(push, listing);
}

/** What a push or pull over ssh works with (syncWorkspace). */
interface SshPush {
  ctx: CiloContext;
  host: RemoteHost;
  rec: EnvRecord;
  remote: string;
  ssh: ReturnType<typeof sshTarget>;
  /** The manifest's key: the host's address and the remote workspace. */
  target: string;
  ignoreText: string;
  find: FindRunner | undefined;
  opts: { pull?: boolean; signal?: AbortSignal; manifestLater?: boolean };
  started: number;
  /** rsync over the same ssh with these arguments, this workspace to the remote one (or back with `pull`). */
  rsync(args: string[], input?: string): Promise<RunResult>;
}

/**
 * Sends what changed here since the last push (`last`, its manifest): as one tar on one ssh
 * session, or named to rsync when it is large. "workspace-gone": the host has no workspace where
 * the manifest says it put one (wiped, rebuilt): nothing was sent and the manifest is forgotten.
 */
async function pushChanges(p: SshPush, listing: Listing, last: Listed, early?: Receiver): Promise<SyncResult | "workspace-gone"> {
  const { host, rec, remote } = p;
  // ssh starts first (or started before this module loaded: `early`, taken when it is for this
  // remote workspace over the same ssh): its connection (or its session on a shared one) opens
  // while the workspace is walked; the tar follows on its stdin.
  const same = early && early.remote === remote && early.ssh.host === p.ssh.host && early.ssh.options.join("\0") === p.ssh.options.join("\0");
  if (early && !same) early.cancel();
  const receiver = same ? early : startReceiver(p.ctx.env, p.ssh, remote, stageName(Date.now(), Math.random()), p.opts.signal);
  const stage = receiver.stage;
  let walked: WalkResult;
  let walkMs: number;
  let small: boolean;
  try {
    walked = await listChanges(listing, rec.workspace, p.ignoreText, last);
    timing(p.ctx.env, "sync: compared");
    walkMs = Date.now() - listing.walkedAt;
    small = walked.send.length <= TAR_MAX_FILES && walked.bytes <= TAR_MAX_BYTES;
    const plan = small ? { send: walked.send.map((e) => e.path), mkdirs: walked.mkdirs, remove: walked.remove } : { send: [], mkdirs: [], remove: [] };
    receiver.feed(pushTar(rec.workspace, stage, small ? walked.send : [], applyScript(remote, stage, plan)));
  } catch (e) {
    receiver.cancel();
    await receiver.done;
    throw e;
  }
  // The tar goes to ssh's stdin first (the callbacks of run's input, one turn of the event loop);
  // the manifest is written while the host unpacks it. Nothing changed: no write at all.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const staged = walked.same ? undefined : stagePushManifest(rec.workspace, p.target, walked.now);
  const r = await receiver.done;
  timing(p.ctx.env, "sync: the host's receiver done");
  if (workspaceGone(r)) {
    staged?.drop();
    forgetPushManifest(rec.workspace);
    return "workspace-gone";
  }
  if (r.code !== 0) {
    staged?.drop();
    throw pushFailed(host, rec, r, "tar");
  }
  if (!small) {
    // Only what changed here, named to rsync on stdin (no walk of either tree); what is gone
    // here is named too and deleted there (--delete-missing-args; --force for a folder that
    // still holds files).
    const list = [...walked.send.map((e) => e.path), ...walked.mkdirs, ...walked.remove];
    const rr = await p.rsync(
      ["-lptD", "--delay-updates", "--mkpath", "--files-from=-", "--from0", "--delete-missing-args", "--force"],
      list.map((f) => `${f}\0`).join(""),
    );
    // 24: a file named vanished before it was sent (deleted here meanwhile): the next push sees it.
    if (rr.code !== 0 && rr.code !== 24) {
      staged?.drop();
      throw pushFailed(host, rec, rr, "rsync");
    }
  }
  staged?.commit();
  return {
    direction: "push",
    host: host.name,
    local: rec.workspace,
    remote,
    ms: Date.now() - p.started,
    walkMs,
    listedBy: walked.listedBy,
    sent: walked.send.length,
    removed: walked.remove.length,
    via: small ? "tar" : "rsync",
  };
}

/**
 * rsync of the whole trees (a pull, a push without a manifest of the last one, or one whose
 * remote workspace is gone), deletions propagated on a push, `.ciloignore` honoured. `listing`:
 * this workspace's listing started already, for the manifest of this push.
 */
async function pushWhole(p: SshPush, listing: Listing | undefined): Promise<SyncResult & { recordManifest?: () => Promise<void> }> {
  const { rec, opts } = p;
  const filters = rsyncFilterRules(p.ignoreText).map((r) => `--filter=${r}`);
  // Racy mtimes are judged from before rsync starts (it may read a file before the walk gets there).
  const rsyncStarted = Date.now();
  const running = p.rsync(["-rlptD", "--delay-updates", ...(opts.pull ? [] : ["--delete-delay", "--mkpath"]), ...filters]);
  // The manifest of this push is listed while rsync starts, before it reads the tree: a file changed
  // while rsync runs has a newer mtime than listed, so the next push sends it again.
  let staged: ReturnType<typeof stagePushManifest> | undefined;
  // The listing of this workspace for the manifest (racy mtimes judged from rsync's start).
  const listForManifest = async () => {
    const l = listing ?? startListing(rec.workspace, p.ignoreText, p.find);
    return (await listChanges({ ...l, walkedAt: Math.min(l.walkedAt, rsyncStarted) }, rec.workspace, p.ignoreText, undefined)).now;
  };
  try {
    if (!opts.pull && !opts.manifestLater) staged = stagePushManifest(rec.workspace, p.target, await listForManifest());
  } catch (e) {
    await running;
    throw e;
  }
  const r = await running;
  if (r.code !== 0) {
    staged?.drop();
    throw pushFailed(p.host, rec, r, "rsync", opts.pull);
  }
  if (staged) staged.commit();
  else forgetPushManifest(rec.workspace); // the host's files came back (or the manifest comes later): the next push compares everything
  const done: SyncResult = {
    direction: opts.pull ? "pull" : "push",
    host: p.host.name,
    local: rec.workspace,
    remote: p.remote,
    ms: Date.now() - p.started,
    via: "rsync",
  };
  if (opts.pull || !opts.manifestLater) return done;
  // `manifestLater` (up): the listing runs when the caller is waiting on something else (up: the env
  // network being made) instead of beside rsync on the way to compose. A file changed here since
  // rsync started has a racy mtime and is sent again by the next push; until this resolves, there
  // is no manifest and the next push compares everything.
  return { ...done, recordManifest: async () => stagePushManifest(rec.workspace, p.target, await listForManifest()).commit() };
}

/** The error of a push (or pull) whose rsync or ssh ended with `r`: ssh failing is the one-line exit 3 naming the host. */
function pushFailed(host: RemoteHost, rec: EnvRecord, r: RunResult, via: "tar" | "rsync", pull = false): CiloError {
  if (r.code === 127 && via === "rsync") {
    return new CiloError("E_SYNC_FAILED", "rsync is not installed on this machine: cilo syncs a remote env's workspace with it", {
      exitCode: ExitCode.prerequisite,
      hint: "Install rsync here and on the host (apt-get install rsync)",
    });
  }
  // ssh failing: 255, or 12 when rsync saw its stream end first; ssh's own line says why.
  if (r.code === 255 || (via === "rsync" && r.code === 12 && /^ssh: /m.test(r.stderr)))
    return hostUnreachable(host.name, { host: host.address, source: `host ${host.name}` }, "ssh", sshLine(r));
  const missing = /command not found|: not found|No such file or directory.*(rsync|tar)/i.exec(r.stderr);
  return new CiloError(
    "E_SYNC_FAILED",
    `${pull ? "Pulling" : "Pushing"} the workspace of ${rec.project}/${rec.name} ${pull ? "from" : "to"} host ${host.name} failed: ${lastLine(r)}`,
    { hint: missing ? `Install ${via === "tar" ? "tar" : "rsync"} on the host too` : "Run cilo sync again: it resumes" },
  );
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

/** What ssh said when rsync's connection failed (rsync's own "code 255" line says nothing). */
function sshLine(r: RunResult): string {
  const said = r.stderr.split("\n").filter((l) => l.trim() && !/^rsync(: | error:)/.test(l));
  return said.length > 0 ? said[said.length - 1]!.trim() : lastLine(r);
}

function lastLine(r: RunResult): string {
  return reasonOf(new Error((r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`).split("\n").filter(Boolean).pop()!));
}
