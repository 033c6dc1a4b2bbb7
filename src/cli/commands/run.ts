import type { CiloContext } from "../../core/context/context.ts";
import type { WorkflowResult } from "../../workflow/engine.ts";
import { appendFileSync } from "node:fs";
import { runInEnvResult } from "../../core/env/run-in-env.ts";
import { CiloError, usageError } from "../../core/errors.ts";
import type { WorkflowRenderer } from "../../workflow/events.ts";
import { formatIssue, loadWorkflow } from "../../workflow/load.ts";
import { notice, printJson, warn } from "../output.ts";

interface RunOptions {
  var?: string | string[];
  keep?: boolean;
  json?: boolean;
  junit?: string;
  outputsFile?: string;
  allowInclude?: string | string[];
  from?: string;
  project?: string;
  /** false with --no-up */
  up?: boolean;
  /** false with --no-create */
  create?: boolean;
  remote?: boolean;
  "--"?: string[];
}

const WORKFLOW_FILE = /\.ya?ml$/i;

/**
 * `cilo run <workflow.yaml>` runs a workflow; `cilo run <command> <env>` (or
 * `cilo run <env> -- <command...>`) runs a command in an env's workspace, creating and starting
 * the env when needed (SPEC §6).
 */
export default async function run(ctx: CiloContext, target: string, rest: string[], opts: RunOptions): Promise<number> {
  const after = opts["--"] ?? [];
  if (after.length === 0 && rest.length === 0 && WORKFLOW_FILE.test(target)) {
    refuse(opts, ["from", "project", "remote"], "a workflow file");
    if (opts.up === false || opts.create === false) throw usageError("--no-up and --no-create go with cilo run <command> <env>, not with a workflow file");
    return runWorkflowFile(ctx, target, opts);
  }
  refuse(opts, ["var", "keep", "junit", "outputsFile", "allowInclude"], "a command");
  let command: string;
  let env: string;
  if (after.length > 0) {
    if (rest.length > 0) throw usageError(`Give either cilo run <command> <env> or cilo run <env> -- <command...>, not both`);
    env = target;
    command = after.map(shellQuote).join(" ");
  } else {
    if (rest.length !== 1) {
      throw usageError(
        rest.length === 0
          ? `"${target}" is not a workflow file (.yaml or .yml), and no env was given`
          : `cilo run takes one command and one env, got ${rest.length + 1} arguments`,
        `Run a workflow: cilo run <file.yaml>. Run a command in an env: cilo run "<command>" <env>, or cilo run <env> -- <command...>`,
      );
    }
    command = target;
    env = rest[0]!;
  }
  // With --json the command's output goes to stderr and stdout holds the result (schema/cilo.run-result.schema.json).
  const result = await runInEnvResult(ctx, {
    command,
    env,
    ...(opts.from ? { from: opts.from } : {}),
    ...(opts.project ? { project: opts.project } : {}),
    create: opts.create !== false,
    up: opts.up !== false,
    ...(opts.remote ? { remote: true } : {}),
    onProgress: notice,
    ...(opts.json ? { output: "stderr" as const } : {}),
  });
  if (opts.json) printJson(result);
  return result.exit_code;
}

async function runWorkflowFile(ctx: CiloContext, file: string, opts: RunOptions): Promise<number> {
  const loaded = await loadWorkflow(file, { vars: parseVars(opts.var), allowInclude: listOf(opts.allowInclude) });
  // On stderr, and they do not fail the run: the workflow does what it says, but risky.
  for (const w of loaded.warnings) warn(formatIssue(w));
  const { WorkflowRunner } = await import("../../workflow/engine.ts");
  const renderers: WorkflowRenderer[] = [await mainRenderer(opts.json === true)];
  if (opts.junit) {
    const { junitReport } = await import("../../workflow/render/junit-report.ts");
    renderers.push(junitReport(opts.junit));
  }
  const runner = new WorkflowRunner(loaded, {
    ctx,
    keep: opts.keep === true,
    onEvent: (e) => {
      for (const r of renderers) r.onEvent(e);
    },
  });
  const onSignal = (signal: "SIGINT" | "SIGTERM") => runner.interrupt(signal);
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  let result: WorkflowResult;
  try {
    result = await runner.run();
    await Promise.all(renderers.map((r) => r.done()));
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
  if (opts.outputsFile) {
    const { formatStepOutputs } = await import("../../workflow/step-outputs.ts");
    const flat = Object.fromEntries(Object.entries(result.outputs).flatMap(([id, o]) => Object.entries(o).map(([k, v]) => [`${id}_${k}`, v])));
    appendFileSync(opts.outputsFile, formatStepOutputs(flat));
  }
  if (result.abandoned) {
    // Operations the run started may still be in flight; a second interruption means: stop now.
    process.stderr.write(`cilo: The workflow ${loaded.name} was stopped at once; its clean-up did not run\n`);
    process.exit(result.exitCode);
  }
  if (result.exitCode === 0) return 0;
  const cancelled = result.outcome === "cancelled";
  const what = cancelled ? `was ${result.reason ?? "interrupted"}` : `failed: ${result.reason ?? "see the steps above"}`;
  throw new CiloError(cancelled ? "E_INTERRUPTED" : "E_WORKFLOW_FAILED", `The workflow ${loaded.name} ${what}`, { exitCode: result.exitCode });
}

/** listr2 on a terminal (outside CI), one plain line per event otherwise, NDJSON with --json. */
async function mainRenderer(json: boolean): Promise<WorkflowRenderer> {
  if (json) return (await import("../../workflow/render/json-renderer.ts")).jsonRenderer();
  if (process.stdout.isTTY && !process.env["CI"]) return (await import("../../workflow/render/listr-renderer.ts")).listrRenderer();
  return (await import("../../workflow/render/plain-renderer.ts")).plainRenderer();
}

/** A repeatable option's values. */
export function listOf(raw: string | string[] | undefined): string[] {
  return (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]).map(String);
}

/** `--var k=v` (repeatable) as a mapping; the value may contain `=`. */
export function parseVars(raw: string | string[] | undefined): Record<string, string> {
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const vars: Record<string, string> = {};
  for (const item of list.map(String)) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw usageError(`--var "${item}" is not name=value`, "Write it as --var env=pr-42");
    vars[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return vars;
}

function refuse(opts: RunOptions, keys: (keyof RunOptions)[], what: string): void {
  const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const used = keys.filter((k) => opts[k] !== undefined && opts[k] !== false);
  if (used.length > 0) throw usageError(`${used.map(flag).join(", ")} cannot be used when running ${what}`);
}

/** One argument as the shell reads it back unchanged. */
function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
