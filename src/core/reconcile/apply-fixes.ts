import { collectIdleShared, releaseShared } from "../shared/shared-instance.ts";
import { existsSync, readdirSync, rmdirSync, rmSync, statSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { stopDns } from "../dns/dnsmasq.ts";
import { syncDnsWithState } from "../dns/sync-with-state.ts";
import { destroyEnv } from "../env/destroy-env.ts";
import { downEnv } from "../env/down-env.ts";
import { ensureReaper, forgetReaper } from "../env/reaper.ts";
import { getProvider } from "../env/runtime.ts";
import { upEnv } from "../env/up-env.ts";
import { CiloError, ExitCode, messageOf } from "../errors.ts";
import { LOCK_STALE_MS } from "../fs/file-lock.ts";
import { LABEL_ENV, LABEL_HOME, LABEL_MANAGED, LABEL_PROJECT } from "../labels.ts";
import { ciloHome, envsDir, statePath } from "../paths.ts";
import { STATE_VERSION } from "../state/schema.ts";
import { backupPath, readState, restoreBackup, withState } from "../state/store.ts";
import { hasUncommittedChanges } from "../workspace/index.ts";
import { interruptedOperation } from "./diagnose.ts";
import type { Finding, FindingId } from "./finding.ts";
import { composeProcesses, isProcessAlive } from "../proc/processes.ts";
import { recordRuntime } from "./record-runtime.ts";

export interface FixOptions {
  home?: string;
  /** Also delete workspaces that hold uncommitted git changes. */
  force?: boolean;
  /** Also remove cilo resources of no CILO_HOME that still exists (`resource-foreign`). */
  foreign?: boolean;
  /** Called before each fix with what is about to happen. */
  onProgress?: (message: string) => void;
}

/** What one fix did (or, in `failed`, why it could not). */
export interface FixOutcome {
  id: FindingId;
  subject: string;
  message: string;
}

export interface FixReport {
  fixed: FixOutcome[];
  failed: FixOutcome[];
}

/** How long a fix waits for a compose call that outlived its killed cilo to finish. */
const COMPOSE_SETTLE_MS = 60_000;

/**
 * Order of repair: the state first (everything else reads it), then interrupted operations and
 * envs, then Docker orphans (containers before the networks and volumes they hold), files, DNS.
 */
const PHASE: Record<FindingId, number> = {
  "state-corrupt": 0,
  "state-schema-old": 1,
  "tmp-file-stray": 1,
  "lock-stale": 1,
  "staging-leftover": 1,
  "operation-interrupted": 2,
  "env-owner-gone": 3,
  "env-workspace-missing": 3,
  "env-workspace-outside": 10,
  "env-service-missing": 4,
  "env-service-exited": 4,
  "env-ip-stale": 4,
  "env-status-stale": 4,
  "reaper-missing": 4,
  "container-orphaned": 5,
  "network-orphaned": 6,
  "volume-orphaned": 7,
  "workspace-orphaned": 8,
  "shared-user-missing": 5,
  "shared-idle-expired": 6,
  "shared-orphaned": 6,
  "shared-service-missing": 10,
  "dns-not-answering": 9,
  "dns-not-running": 9,
  "dns-out-of-sync": 9,
  "docker-unreachable": 10,
  "compose-missing": 10,
  "dnsmasq-missing": 10,
  "state-missing": 10,
  "state-too-new": 10,
  "env-failed": 10,
  "resource-foreign": 7,
  "resolver-not-set-up": 10,
};

/** Whether `--fix` acts on a finding: it has a fix, and another home's leftovers only with `--foreign`. */
export function wantsFix(f: Finding, opts: Pick<FixOptions, "foreign">): boolean {
  return f.fix !== null && (f.id !== "resource-foreign" || opts.foreign === true);
}

/**
 * Applies the fix of each finding that has one, in dependency order, through the same core
 * operations the commands use (`destroyEnv`, `upEnv`, `downEnv`). Never touches a Docker resource
 * without cilo labels; never deletes a workspace with uncommitted changes unless `force`.
 */
export async function applyFixes(findings: Finding[], opts: FixOptions = {}): Promise<FixReport> {
  const home = opts.home ?? ciloHome();
  const todo = findings.filter((f) => wantsFix(f, opts)).sort((a, b) => PHASE[a.id] - PHASE[b.id]);
  const report: FixReport = { fixed: [], failed: [] };
  let dnsDone = false;
  for (const f of todo) {
    if (f.id.startsWith("dns-") && dnsDone) {
      report.fixed.push({ id: f.id, subject: f.subject, message: "DNS was applied from the state" });
      continue;
    }
    opts.onProgress?.(`Fixing ${f.id} ${f.subject}: ${f.fix}`);
    try {
      const message = await fixOne(f, home, opts.force === true);
      report.fixed.push({ id: f.id, subject: f.subject, message });
      if (f.id.startsWith("dns-")) dnsDone = true;
    } catch (e) {
      report.failed.push({ id: f.id, subject: f.subject, message: messageOf(e) });
    }
  }
  return report;
}

async function fixOne(f: Finding, home: string, force: boolean): Promise<string> {
  switch (f.id) {
    case "state-corrupt": {
      const kept = await restoreBackup(home);
      return `restored the state from ${backupPath(statePath(home))}; the corrupt file is kept as ${kept} (the last change before it is lost)`;
    }
    case "state-schema-old":
      await withState(() => {}, home);
      return `rewrote it in schema version ${STATE_VERSION}`;
    case "tmp-file-stray":
      unlinkSync(f.subject);
      return "deleted it";
    case "lock-stale":
      if (existsSync(f.subject) && Date.now() - statSync(f.subject).mtimeMs < LOCK_STALE_MS) throw new CiloError("E_LOCKED", "its holder refreshed it meanwhile");
      rmSync(f.subject, { recursive: true, force: true });
      return "removed it";
    case "staging-leftover":
      rmSync(f.subject, { recursive: true, force: true });
      return "deleted it";
    case "operation-interrupted":
      return finishOperation(f.subject, home, force);
    case "env-owner-gone": {
      const owner = readState(home).envs[f.subject]?.owner_pid;
      await destroyEnv({ ref: f.subject, project: projectOf(f.subject), force: true, discardWork: true }); // a throwaway env, as the reaper would
      if (owner !== undefined) await forgetReaper(owner, home);
      return "destroyed it";
    }
    case "env-workspace-missing":
      // The folder is gone, but a worktree's branch may still hold commits: kept unless --force.
      await destroyEnv({ ref: f.subject, project: projectOf(f.subject), force: true, discardWork: force });
      return "destroyed it";
    case "env-service-missing":
    case "env-service-exited":
      await upEnv({ ref: f.subject, project: projectOf(f.subject) });
      return "started it again";
    case "env-ip-stale":
    case "env-status-stale": {
      const rec = await recordRuntime(f.subject);
      await syncDnsWithState(home, "when-needed");
      return `recorded it as ${rec?.status ?? "gone"} with the addresses Docker reports`;
    }
    case "reaper-missing": {
      const owner = readState(home).envs[f.subject]?.owner_pid;
      if (owner === undefined) return "it is no longer a throwaway env";
      await ensureReaper(owner, home);
      return `started a reaper for process ${owner}`;
    }
    case "container-orphaned":
    case "network-orphaned":
    case "volume-orphaned":
      return removeOrphan(f, home);
    case "workspace-orphaned":
      return removeOrphanWorkspace(f.subject, home, force);
    case "shared-user-missing": {
      const project = f.subject.slice(0, f.subject.indexOf("/"));
      await releaseShared(project, f.target!);
      return `forgot ${f.target} as a user`;
    }
    case "shared-idle-expired": {
      const project = f.subject.slice(0, f.subject.indexOf("/"));
      const stopped = await collectIdleShared(project);
      return stopped.length > 0 ? `stopped ${stopped.join(", ")}` : "nothing left to stop";
    }
    case "shared-orphaned":
    case "resource-foreign":
      return removeSharedOrphan(f.target!);
    case "dns-not-answering":
      await stopDns({ home });
      await syncDnsWithState(home);
      return "restarted cilo's dnsmasq";
    case "dns-not-running":
    case "dns-out-of-sync":
      await syncDnsWithState(home);
      return "applied the DNS the state renders to";
    default:
      throw new CiloError("E_NO_FIX", `${f.id} has no automatic fix`);
  }
}

/** Resumes or rolls back what a killed cilo left: see INTERRUPTED_FIX in diagnose.ts. */
async function finishOperation(key: string, home: string, force: boolean): Promise<string> {
  const rec = readState(home).envs[key];
  if (!rec) return "the env is gone already";
  const op = interruptedOperation(rec);
  if (op && isProcessAlive(op.pid, { startedBefore: Date.parse(op.started_at) })) {
    throw new CiloError("E_ENV_BUSY", `${op.kind} is running again (pid ${op.pid}); leaving it alone`);
  }
  await composeSettled(rec.docker_name);
  switch (op?.kind) {
    case "create":
    case "destroy":
      await refuseDirty(rec.workspace, force);
      await destroyEnv({ ref: key, project: rec.project, force: true, discardWork: force });
      return op.kind === "create" ? "rolled the create back: removed what it made and the record" : "finished the destroy";
    case "up": {
      const done = await recordRuntime(key, { status: "failed", error: "cilo up was interrupted before it finished" });
      await syncDnsWithState(home, "when-needed");
      return done?.status === "running" ? "every service runs: recorded it as running" : "recorded it as failed (not every service runs); cilo up starts it again";
    }
    case "down":
      await downEnv({ ref: key, project: rec.project });
      return "finished stopping it";
    default:
      return "nothing was left to do";
  }
}

/** Waits for a compose call that outlived its cilo (it still changes the env) to end. */
async function composeSettled(project: string): Promise<void> {
  const deadline = Date.now() + COMPOSE_SETTLE_MS;
  while ((composeProcesses().get(project)?.length ?? 0) > 0) {
    if (Date.now() > deadline) throw new CiloError("E_ENV_BUSY", `A compose process of ${project} is still running after ${COMPOSE_SETTLE_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function refuseDirty(workspace: string, force: boolean): Promise<void> {
  if (force || !existsSync(workspace) || !(await hasUncommittedChanges(workspace))) return;
  throw new CiloError("E_WORKSPACE_DIRTY", `The workspace ${workspace} has uncommitted changes; run cilo doctor --fix --force to delete it anyway`, {
    exitCode: ExitCode.usage,
  });
}

/** Removes a cilo-labelled resource after checking, against the state as it is now, that no env owns it. */
async function removeOrphan(f: Finding, home: string): Promise<string> {
  const provider = await getProvider();
  const managed = { [LABEL_MANAGED]: "true" };
  const target = f.target ?? f.subject;
  const kind = f.id.slice(0, f.id.indexOf("-"));
  const labels =
    kind === "container"
      ? (await provider.inspectContainer(target))?.labels
      : kind === "network"
        ? (await provider.listNetworks(managed)).find((n) => n.id === target)?.labels
        : (await provider.listVolumes(managed)).find((v) => v.name === target)?.labels;
  if (!labels) return `the ${kind} is gone already`;
  if (labels[LABEL_MANAGED] !== "true") throw new CiloError("E_NOT_CILO", `The ${kind} ${f.subject} has no cilo labels; leaving it alone`);
  if (labels[LABEL_HOME] !== undefined && labels[LABEL_HOME] !== readState(home).home_id) {
    throw new CiloError("E_NOT_OURS", `The ${kind} ${f.subject} belongs to another CILO_HOME (${labels[LABEL_HOME]}); leaving it alone`);
  }
  const key = `${labels[LABEL_PROJECT]}/${labels[LABEL_ENV]}`;
  if (readState(home).envs[key]) return `left it: it belongs to ${key} now`;
  if (kind === "container") await provider.removeContainer(target);
  else if (kind === "network") await provider.removeNetwork(target);
  else await provider.removeVolume(target);
  return `removed the ${kind}`;
}

async function removeSharedOrphan(target: string): Promise<string> {
  const provider = await getProvider();
  const [kind, id] = target.split(":") as [string, string];
  if (kind === "container") await provider.removeContainer(id);
  else if (kind === "network") await provider.removeNetwork(id);
  else await provider.removeVolume(id);
  return `removed the ${kind}`;
}

async function removeOrphanWorkspace(key: string, home: string, force: boolean): Promise<string> {
  if (readState(home).envs[key]) return `left it: ${key} exists now`;
  const path = join(envsDir(home), key);
  await refuseDirty(path, force);
  rmSync(path, { recursive: true, force: true });
  const parent = dirname(path);
  if (existsSync(parent) && readdirSync(parent).length === 0) rmdirSync(parent);
  return `deleted ${path}`;
}

function projectOf(key: string): string {
  return key.slice(0, key.indexOf("/"));
}
