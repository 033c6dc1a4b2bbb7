import { existsSync, statSync } from "node:fs";
import { ExitCode } from "../errors.ts";
import { LOCK_STALE_MS } from "../fs/file-lock.ts";
import type { CiloContext } from "../context/context.ts";
import { applyFixes, wantsFix, type FixOutcome } from "./apply-fixes.ts";
import { diagnose } from "./diagnose.ts";
import type { Check, ReconcileFacts } from "./facts.ts";
import { isProblem, type Finding } from "./finding.ts";
import { findingDef } from "./findings/index.ts";
import { gatherFacts } from "./gather-facts.ts";

export interface DoctorOptions {
  fix?: boolean;
  force?: boolean;
  /** With `fix`: also remove resources of CILO_HOMEs that no longer exist. */
  foreign?: boolean;
  onProgress?: (message: string) => void;
}

export interface DoctorReport {
  /** No error or warning is left. */
  healthy: boolean;
  checks: Check[];
  /** What is wrong now (after fixing, what is left). */
  findings: Finding[];
  fixed: FixOutcome[];
  /** Fixes that were tried and did not work, with why. */
  failed: FixOutcome[];
  /** 0 healthy, 1 problems left, 3 a prerequisite is missing. */
  exitCode: number;
}

/** A repair can reveal more (a restored state shows orphans); at most this many rounds. */
const MAX_ROUNDS = 3;

/**
 * `cilo doctor`: checks the prerequisites and reconciles the state with Docker, the files under
 * `$CILO_HOME` and DNS. With `fix`, repairs what it can, round after round while a round repaired
 * something, and reports what is left.
 */
export async function runDoctor(ctx: CiloContext, opts: DoctorOptions = {}): Promise<DoctorReport> {
  let facts = await gatherFacts(ctx);
  const fixed: FixOutcome[] = [];
  const failed: FixOutcome[] = [];
  if (opts.fix) {
    if (await youngLocksSettled(ctx, facts)) facts = await gatherFacts(ctx);
    const tried = new Set<string>();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const todo = diagnose(facts).filter((f) => wantsFix(f, opts) && !tried.has(`${f.id} ${f.subject}`));
      if (todo.length === 0) break;
      for (const f of todo) tried.add(`${f.id} ${f.subject}`);
      const report = await applyFixes(ctx, todo, {
        ...(opts.force ? { force: true } : {}),
        ...(opts.foreign ? { foreign: true } : {}),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
      fixed.push(...report.fixed);
      failed.push(...report.failed);
      facts = await gatherFacts(ctx);
      if (report.fixed.length === 0) break;
    }
  }
  const findings = diagnose(facts);
  const problems = findings.filter(isProblem);
  const exitCode = findings.some((f) => findingDef(f.id).prerequisite) ? ExitCode.prerequisite : problems.length > 0 ? ExitCode.failure : ExitCode.ok;
  return { healthy: problems.length === 0, checks: facts.checks, findings, fixed, failed, exitCode };
}

/**
 * A lock not yet stale may be held by a live command or left by a killed one; only waiting tells.
 * Waits (at most the stale time) until each is released or stale; true when there was one.
 */
async function youngLocksSettled(ctx: CiloContext, facts: ReconcileFacts): Promise<boolean> {
  const young = facts.locks.filter((l) => l.ageMs < LOCK_STALE_MS).map((l) => l.path);
  if (young.length === 0) return false;
  const deadline = ctx.clock.now() + LOCK_STALE_MS + 1_000;
  const pending = () => young.filter((p) => existsSync(p) && ctx.clock.now() - mtime(p) < LOCK_STALE_MS);
  while (pending().length > 0 && ctx.clock.now() < deadline) await ctx.clock.sleep(200);
  return true;
}

function mtime(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}
