import type { CiloContext } from "../../context/context.ts";
import type { FindingTarget, Severity, TargetKind } from "../finding.ts";

/** What a fix may use besides its target: the context of the doctor run, and its `--force`. */
export interface FixContext extends CiloContext {
  /** Also delete workspaces that hold uncommitted git changes. */
  force: boolean;
}

/**
 * What one kind of finding is and how it is fixed. `diagnose` decides when it is found (and words
 * its message and fix line); everything else about it lives here.
 */
export interface FindingDef<K extends TargetKind = TargetKind> {
  severity: Severity;
  /** What kind of target it is about (the `target` of every finding with this id). */
  target: K;
  /** One line: what it means (docs/doctor.md has the long form). */
  describe: string;
  /**
   * Order of repair, lower first: the state (everything else reads it), files and locks,
   * interrupted operations, envs, Docker orphans (containers before the networks and volumes they
   * hold), workspaces, DNS. Findings without a fix are 10.
   */
  phase: number;
  /** Found, it means a prerequisite is missing: `cilo doctor` exits 3. */
  prerequisite?: true;
  /** `--fix` acts on it only with this option too. */
  onlyWith?: "foreign";
  /** Fixes of one group do the same thing: once one worked, the others are told `done`. */
  group?: { name: string; done: string };
  /** Repairs it; says in one line what it did. Throws (a CiloError) when it cannot. */
  fix?: (target: Extract<FindingTarget, { kind: K }>, ctx: FixContext) => Promise<string>;
}

/** Keeps `target` as its literal kind, so that `fix` gets the narrowed target. */
export function defineFinding<K extends TargetKind>(def: FindingDef<K>): FindingDef<K> {
  return def;
}
