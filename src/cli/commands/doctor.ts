import type { CiloContext } from "../../core/context/context.ts";
import { isProblem, type Finding } from "../../core/reconcile/finding.ts";
import { runDoctor, type DoctorReport } from "../../core/reconcile/run-doctor.ts";
import { notice, printJson, println } from "../output.ts";

interface DoctorCommandOptions {
  fix?: boolean;
  force?: boolean;
  foreign?: boolean;
  json?: boolean;
}

/** `cilo doctor [--fix [--force] [--foreign]] [--json]`: exit 0 healthy, 1 problems left, 3 a prerequisite is missing. */
export default async function doctor(ctx: CiloContext, opts: DoctorCommandOptions): Promise<number> {
  const report = await runDoctor(ctx, { fix: !!opts.fix, force: !!opts.force, foreign: !!opts.foreign, onProgress: notice });
  if (opts.json) {
    printJson({
      healthy: report.healthy,
      checks: report.checks,
      findings: report.findings.map(({ id, severity, message, fix, subject }) => ({ id, severity, message, fix, subject })),
      fixed: report.fixed,
      failed: report.failed,
    });
  } else {
    println(render(report, !!opts.fix));
  }
  return report.exitCode;
}

function render(report: DoctorReport, fixing: boolean): string {
  const lines: string[] = [];
  const width = Math.max(...report.checks.map((c) => c.name.length));
  for (const c of report.checks) lines.push(`${!c.ok ? "FAIL" : c.warn ? "warn" : "ok  "}  ${c.name.padEnd(width)}  ${c.detail}`);
  if (report.fixed.length > 0) {
    lines.push("", "Fixed:");
    for (const f of report.fixed) lines.push(`  ${f.id}  ${f.subject}: ${f.message}`);
  }
  if (report.failed.length > 0) {
    lines.push("", "Could not fix:");
    for (const f of report.failed) lines.push(`  ${f.id}  ${f.subject}: ${f.message}`);
  }
  if (report.findings.length > 0) lines.push("");
  for (const f of report.findings) lines.push(...finding(f));
  lines.push("", summary(report, fixing));
  return lines.join("\n");
}

function finding(f: Finding): string[] {
  const head = `${f.severity.padEnd(7)}  ${f.id}  ${f.message}`;
  return f.fix ? [head, `         fix: ${f.fix}`] : [head];
}

function summary(report: DoctorReport, fixing: boolean): string {
  const problems = report.findings.filter(isProblem);
  if (problems.length === 0) return report.fixed.length > 0 ? `Healthy: ${report.fixed.length} problem(s) fixed.` : "Healthy.";
  const fixable = problems.filter((f) => f.fix !== null).length;
  const n = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
  if (fixing || fixable === 0) return `${n} left that cilo cannot fix by itself.`;
  return `${n} found; run cilo doctor --fix to repair ${fixable === problems.length ? (problems.length === 1 ? "it" : "them") : `${fixable} of them`}.`;
}
