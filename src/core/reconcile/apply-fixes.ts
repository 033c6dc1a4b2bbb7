import { CiloError, messageOf } from "../errors.ts";
import type { CiloContext } from "../context/context.ts";
import type { Finding, FindingId, FindingTarget } from "./finding.ts";
import type { FixContext } from "./findings/define.ts";
import { findingDef } from "./findings/index.ts";

export interface FixOptions {
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

/** Whether `--fix` acts on a finding: it has a fix, and one that needs an option (`--foreign`) only with it. */
export function wantsFix(f: Finding, opts: Pick<FixOptions, "foreign">): boolean {
  const only = findingDef(f.id).onlyWith;
  return f.fix !== null && (only === undefined || opts[only] === true);
}

/**
 * Applies the fix of each finding that has one, in the order of their phases (findings/define.ts),
 * through the same core operations the commands use (`destroyEnv`, `upEnv`, `downEnv`). Never
 * touches a Docker resource without cilo labels; never deletes a workspace with uncommitted changes
 * unless `force`.
 */
export async function applyFixes(ctx: CiloContext, findings: Finding[], opts: FixOptions = {}): Promise<FixReport> {
  const fixCtx: FixContext = { ...ctx, force: opts.force === true };
  const todo = findings.filter((f) => wantsFix(f, opts)).sort((a, b) => findingDef(a.id).phase - findingDef(b.id).phase);
  const report: FixReport = { fixed: [], failed: [] };
  const groupsDone = new Set<string>();
  for (const f of todo) {
    const group = findingDef(f.id).group;
    if (group && groupsDone.has(group.name)) {
      report.fixed.push({ id: f.id, subject: f.subject, message: group.done });
      continue;
    }
    opts.onProgress?.(`Fixing ${f.id} ${f.subject}: ${f.fix}`);
    try {
      const message = await fixOne(f, fixCtx);
      report.fixed.push({ id: f.id, subject: f.subject, message });
      if (group) groupsDone.add(group.name);
    } catch (e) {
      report.failed.push({ id: f.id, subject: f.subject, message: messageOf(e) });
    }
  }
  return report;
}

async function fixOne(f: Finding, ctx: FixContext): Promise<string> {
  const def = findingDef(f.id);
  if (!def.fix) throw new CiloError("E_NO_FIX", `${f.id} has no automatic fix`);
  if (f.target.kind !== def.target) throw new CiloError("E_NO_FIX", `${f.id} is about a ${def.target}, not a ${f.target.kind}`);
  return (def.fix as (t: FindingTarget, c: typeof ctx) => Promise<string>)(f.target, ctx);
}
