import { existsSync, realpathSync } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { CiloError, ExitCode, usageError } from "../core/errors.ts";
import { didYouMean } from "../core/suggest.ts";
import type { Segment } from "../core/yaml-source-map.ts";
import type { IncludeStep, Step, Workflow } from "./types.ts";
import { analyseWorkflow, notAWorkflow, type WorkflowIssue } from "./validate.ts";

export { validateWorkflowText, workflowSchemaUrl, type WorkflowIssue } from "./validate.ts";

/** A checked workflow with the files it includes, read and checked too. */
export interface LoadedWorkflow {
  workflow: Workflow;
  /** Its `name:`, else the file name without extension. */
  name: string;
  /** Absolute path of the file. */
  file: string;
  /** Absolute path of its folder, against which `clone.from` and `include` resolve. */
  dir: string;
  /** `--var` values, taken literally over the declared `vars` (see `resolveVars`). */
  varOverrides: Record<string, string>;
  /** Included workflows by absolute path; look one up with {@link includedWorkflow}. */
  includes: Map<string, LoadedWorkflow>;
  /** Things that work but are risky (see `runWarnings` in validate.ts), in this file and the files it includes. */
  warnings: WorkflowIssue[];
}

export interface LoadOptions {
  /** `--var` values. */
  vars?: Record<string, string>;
  /**
   * `--allow-include <dir>`: folders whose files may be included besides the workflow's own
   * repository (or folder); see {@link includeRoots}.
   */
  allowInclude?: string[];
  /**
   * The workflow's text, given inline (MCP `workflow_run { yaml }`): `file` is then only where it
   * is taken to be (its folder anchors relative paths and includes) and need not exist.
   */
  text?: string;
}

/** A workflow that failed validation: the message is the first issue, `issues` holds them all. */
export class WorkflowInvalidError extends CiloError {
  readonly issues: WorkflowIssue[];

  constructor(issues: WorkflowIssue[], file: string) {
    const more = issues.length - 1;
    super("E_WORKFLOW_INVALID", formatIssue(issues[0]!), {
      exitCode: ExitCode.usage,
      ...(more > 0 ? { hint: `${more} more problem${more === 1 ? "" : "s"}; \`cilo workflow validate ${file}\` lists them all` } : {}),
    });
    this.name = "WorkflowInvalidError";
    this.issues = issues;
  }
}

/** `<file>:<line>:<col>: <path>: <message>` */
export function formatIssue(issue: WorkflowIssue): string {
  return `${issue.file}:${issue.line}:${issue.column}: ${issue.path ? `${issue.path}: ` : ""}${issue.message}`;
}

/**
 * Reads and checks a workflow file and every file it includes (relative to the including file,
 * cycles refused; only files inside {@link includeRoots}). Throws {@link WorkflowInvalidError}
 * (E_WORKFLOW_INVALID, exit 2) listing every problem, `E_WORKFLOW_NOT_FOUND` (exit 2) for a
 * missing file, and a usage error for a `vars` override the workflow does not declare.
 */
export async function loadWorkflow(file: string, opts: LoadOptions = {}): Promise<LoadedWorkflow> {
  const path = resolve(file);
  const text = opts.text ?? (await readText(path));
  if (text === undefined) {
    throw new CiloError("E_WORKFLOW_NOT_FOUND", `The workflow file ${file} does not exist`, {
      exitCode: ExitCode.usage,
      hint: "Create one with `cilo workflow new`",
    });
  }
  const issues: WorkflowIssue[] = [];
  // The folder tree is anchored where the workflow is named (its folder, links resolved), not where
  // the file itself may link to: a workflow that is a symlink does not widen it.
  const named = join(realpathSync(dirname(path)), basename(path));
  const roots = includeRoots(named, opts.allowInclude ?? []);
  const loaded = await loadTree(path, text, { chain: [opts.text === undefined ? realpathSync(path) : named], issues, done: new Map(), roots });
  if (!loaded || issues.length > 0) throw new WorkflowInvalidError(issues, file);
  const overrides = opts.vars ?? {};
  const declared = Object.keys(loaded.workflow.vars ?? {});
  for (const name of Object.keys(overrides)) {
    if (!declared.includes(name)) {
      const has = declared.length > 0 ? `it declares ${declared.join(", ")}` : "it declares no vars";
      throw usageError(`The workflow ${file} has no var "${name}"${didYouMean(name, declared)}; ${has}`);
    }
  }
  return { ...loaded, varOverrides: { ...overrides } };
}

/** The workflow an `include` step of `parent` runs. */
export function includedWorkflow(parent: LoadedWorkflow, step: IncludeStep): LoadedWorkflow {
  const child = parent.includes.get(resolve(parent.dir, step.include));
  if (!child) throw new Error(`The include "${step.include}" of ${parent.file} was not loaded`);
  return child;
}

/**
 * The folders a workflow may include files from: the git repository the workflow file is in (the
 * nearest folder above it with a `.git`), else the workflow's own folder, plus each
 * `--allow-include` folder. All with symlinks resolved, so a link cannot lead out of them. A
 * workflow from an untrusted pull request thus cannot make CI read (and print) other files of
 * the machine, such as `include: /etc/shadow`.
 */
export function includeRoots(file: string, allow: readonly string[]): { home: string; roots: string[] } {
  const dir = dirname(file);
  let home = dir;
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, ".git"))) {
      home = d;
      break;
    }
    if (dirname(d) === d) break;
  }
  const extra = allow.map((a) => {
    try {
      return realpathSync(resolve(a));
    } catch {
      throw usageError(`--allow-include ${a}: the folder does not exist`);
    }
  });
  return { home, roots: [home, ...extra] };
}

function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

interface LoadRun {
  /** The files being loaded (real paths), outermost first, to detect cycles. */
  chain: string[];
  issues: WorkflowIssue[];
  /** Files already loaded by real path (undefined when invalid), so a file included twice is read once. */
  done: Map<string, LoadedWorkflow | undefined>;
  roots: { home: string; roots: string[] };
}

async function loadTree(path: string, text: string, run: LoadRun): Promise<LoadedWorkflow | undefined> {
  const { chain, issues, done } = run;
  const analysis = analyseWorkflow(text, displayPath(path));
  issues.push(...analysis.issues);
  const { workflow } = analysis;
  if (!workflow) return undefined;
  const dir = dirname(path);
  const includes = new Map<string, LoadedWorkflow>();
  const warnings = new Set(analysis.warnings);
  for (const { step, at } of includeSteps(workflow.steps, ["steps"])) {
    const target = resolve(dir, step.include);
    const refuse = (message: string) => issues.push(analysis.issueAt([...at, "include"], "value", message));
    const real = await realpath(target).catch(() => undefined);
    if (real === undefined) {
      refuse(`the file ${displayPath(target)} does not exist; expected a workflow file relative to this one`);
      continue;
    }
    if (!run.roots.roots.some((root) => isInside(real, root))) {
      const via = real === target ? "" : ` (it leads to ${real})`;
      refuse(
        `the file ${displayPath(target)}${via} is outside ${run.roots.home}, the folder tree this workflow may include from; expected a file inside it, or allow its folder with --allow-include <dir>`,
      );
      continue;
    }
    if (chain.includes(real)) {
      const cycle = [...chain.slice(chain.indexOf(real)), real].map(displayPath).join(" -> ");
      refuse(`include cycle ${cycle}; expected a file that does not include this one`);
      continue;
    }
    const child = done.has(real) ? done.get(real) : await loadChild(target, real, run);
    if (typeof child === "string") {
      refuse(`the file ${displayPath(target)} is not a workflow: ${child}; expected a workflow file with version: 1 and steps`);
      continue;
    }
    if (!child) continue;
    includes.set(target, child);
    for (const w of child.warnings) warnings.add(w);
    const declared = Object.keys(child.workflow.vars ?? {});
    for (const name of Object.keys(step.with ?? {})) {
      if (declared.includes(name)) continue;
      const has = declared.length > 0 ? `one of ${declared.join(", ")}` : `a var of ${displayPath(target)} (it declares none)`;
      issues.push(analysis.issueAt([...at, "with", name], "key", `${displayPath(target)} has no var "${name}"${didYouMean(name, declared)}; expected ${has}`));
    }
  }
  const name = workflow.name ?? basename(path, extname(path));
  return { workflow, name, file: path, dir, varOverrides: {}, includes, warnings: [...warnings] };
}

/**
 * An included file (read through its real path, checked to be inside the allowed folders): loaded,
 * undefined when it has problems (they are in `run.issues`), or why it is not a workflow at all.
 * The problems of a file that is not a workflow are not listed: they would quote its lines.
 */
async function loadChild(path: string, real: string, run: LoadRun): Promise<LoadedWorkflow | undefined | string> {
  if (!(await stat(real)).isFile()) return "it is not a regular file";
  const text = await readText(real);
  if (text === undefined) return "it does not exist";
  const reason = notAWorkflow(text);
  if (reason !== undefined) return reason;
  const child = await loadTree(path, text, { ...run, chain: [...run.chain, real] });
  run.done.set(real, child);
  return child;
}

function includeSteps(steps: Step[], path: Segment[]): { step: IncludeStep; at: Segment[] }[] {
  return steps.flatMap((step, i) => {
    const at = [...path, i];
    if ("include" in step) return [{ step, at }];
    if ("parallel" in step) return includeSteps(step.parallel, [...at, "parallel"]);
    return [];
  });
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CiloError("E_WORKFLOW_UNREADABLE", `The workflow file ${path} cannot be read: ${(e as Error).message}`, {
      exitCode: ExitCode.usage,
      cause: e,
    });
  }
}

/** A path as users see it: relative to the working folder when inside it. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}
