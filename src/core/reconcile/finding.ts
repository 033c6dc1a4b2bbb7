import type { FINDINGS } from "./findings/index.ts";

/** How bad a finding is: errors and warnings make `cilo doctor` fail, infos are only told. */
export type Severity = "error" | "warning" | "info";

/**
 * Stable ids of what `cilo doctor` finds: the keys of the registry in findings/index.ts (each
 * entry says what the finding is and how it is fixed; docs/doctor.md describes each).
 */
export type FindingId = keyof typeof FINDINGS;

/** What a finding is about, structured so that no fix parses a string. */
export type FindingTarget =
  /** A prerequisite or a part of cilo as a whole. */
  | { kind: "component"; name: "docker" | "compose" | "dnsmasq" | "resolver" | "state.json" | "gateway" | `host ${string}` }
  /** A file or folder under `$CILO_HOME` (absolute). */
  | { kind: "path"; path: string }
  /** An env, or its workspace folder `envs/<project>/<env>`. */
  | { kind: "env"; project: string; env: string }
  /** A Docker resource: `id` is what the engine is asked with (a volume's is its name). */
  | { kind: "docker"; resource: "container" | "network" | "volume"; id: string; name: string }
  /** A service of a project's shared instance. */
  | { kind: "shared-service"; project: string; service: string }
  /** A user env listed by a shared service. */
  | { kind: "shared-user"; project: string; service: string; user: string };

export type TargetKind = FindingTarget["kind"];

export interface Finding {
  id: FindingId;
  severity: Severity;
  /** What it is about, as one string (`subjectOf(target)`): an env (`<project>/<env>`), a Docker resource's name, a path. */
  subject: string;
  /** One line saying what is wrong. */
  message: string;
  /** What `cilo doctor --fix` does about it, in one line; null when it cannot be fixed automatically. */
  fix: string | null;
  /** What it is about, and what its fix acts on. */
  target: FindingTarget;
}

/** The one-string form of a target that `cilo doctor` prints and `--json` gives as `subject`. */
export function subjectOf(t: FindingTarget): string {
  switch (t.kind) {
    case "component":
      return t.name;
    case "path":
      return t.path;
    case "env":
      return `${t.project}/${t.env}`;
    case "docker":
      return t.name;
    case "shared-service":
    case "shared-user":
      return `${t.project}/${t.service} (shared)`;
  }
}

export function isProblem(f: Finding): boolean {
  return f.severity !== "info";
}
