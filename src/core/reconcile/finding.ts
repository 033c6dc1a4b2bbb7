/** How bad a finding is: errors and warnings make `cilo doctor` fail, infos are only told. */
export type Severity = "error" | "warning" | "info";

/** Stable ids of what `cilo doctor` finds (docs/doctor.md describes each and its fix). */
export type FindingId =
  | "docker-unreachable"
  | "compose-missing"
  | "dnsmasq-missing"
  | "state-missing"
  | "state-too-new"
  | "state-corrupt"
  | "state-schema-old"
  | "tmp-file-stray"
  | "lock-stale"
  | "operation-interrupted"
  | "env-owner-gone"
  | "reaper-missing"
  | "env-workspace-missing"
  | "env-workspace-outside"
  | "env-service-missing"
  | "env-service-exited"
  | "env-ip-stale"
  | "env-status-stale"
  | "env-failed"
  | "container-orphaned"
  | "network-orphaned"
  | "volume-orphaned"
  | "resource-foreign"
  | "workspace-orphaned"
  | "staging-leftover"
  | "dns-not-running"
  | "dns-not-answering"
  | "dns-out-of-sync"
  | "resolver-not-set-up"
  | "shared-user-missing"
  | "shared-idle-expired"
  | "shared-service-missing"
  | "shared-orphaned";

export interface Finding {
  id: FindingId;
  severity: Severity;
  /** What it is about: an env (`<project>/<env>`), a Docker resource's name, a path. */
  subject: string;
  /** One line saying what is wrong. */
  message: string;
  /** What `cilo doctor --fix` does about it, in one line; null when it cannot be fixed automatically. */
  fix: string | null;
  /** What the fix acts on when the subject does not name it exactly (a Docker id). */
  target?: string;
}

/** Findings that mean a prerequisite is missing (exit 3). */
export const PREREQUISITE_FINDINGS: readonly FindingId[] = ["docker-unreachable", "compose-missing", "dnsmasq-missing", "state-missing", "state-too-new"];

export function isProblem(f: Finding): boolean {
  return f.severity !== "info";
}
