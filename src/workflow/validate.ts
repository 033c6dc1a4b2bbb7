import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { references } from "./expression/ast.ts";
import { CILO_FIELDS, STEP_FIELDS } from "./expression/context.ts";
import { ExpressionError } from "./expression/errors.ts";
import type { Expression } from "./expression/parser.ts";
import { didYouMean } from "../core/suggest.ts";
import { isTemplate, parseCondition, parseTemplate } from "./expression/template.ts";
import { describe, type PathIssue, schemaIssues } from "./schema-issues.ts";
import { workflowSchemaValidator } from "./schema-validator.ts";
import { type Segment, SourceMap } from "../core/yaml-source-map.ts";
import type { Step, Workflow } from "./types.ts";
import { isRecord } from "../core/is-record.ts";

/** One problem in a workflow file, at the offending key or value. */
export interface WorkflowIssue {
  file: string;
  line: number;
  column: number;
  /** Where in the workflow, such as `steps[2].wait.timeout`; empty for the file as a whole. */
  path: string;
  /** What is wrong and what was expected, one line. */
  message: string;
}

/** The result of checking a workflow's text, with what is needed to point at its parts. */
export interface WorkflowAnalysis {
  workflow?: Workflow;
  issues: WorkflowIssue[];
  /** Things that work but are risky: `${{ }}` of outside values pasted into `run:` scripts. */
  warnings: WorkflowIssue[];
  /** An issue about the value at `path` of this file. */
  issueAt(path: Segment[], target: "key" | "value", message: string): WorkflowIssue;
}

export { workflowSchemaUrl } from "./schema-validator.ts";

/**
 * Checks a workflow's text: YAML syntax, the JSON Schema, then what a schema cannot say (unique
 * ids, `needs`, expressions and what they refer to). Pure; included files are not read.
 */
export function validateWorkflowText(text: string, file: string): { workflow?: Workflow; issues: WorkflowIssue[]; warnings: WorkflowIssue[] } {
  const { workflow, issues, warnings } = analyseWorkflow(text, file);
  return workflow ? { workflow, issues, warnings } : { issues, warnings };
}

/**
 * Why a text is not a workflow at all (not YAML, not a mapping, neither `version` nor `steps`), or
 * undefined when it looks like one. For included files: the problems of a file that is not a
 * workflow are not listed, since their messages quote its text. The reason never does.
 */
export function notAWorkflow(text: string): string | undefined {
  if (text.includes("\0")) return "it is a binary file";
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    const { line, col } = lines.linePos(error.pos[0]);
    return `it is not valid YAML (line ${line}, column ${col})`;
  }
  const top = doc.contents;
  if (!isMap(top)) return "it is not a YAML mapping";
  const keys = top.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ""));
  if (!keys.includes("version") && !keys.includes("steps")) return "it has neither version: nor steps:";
  return undefined;
}

/** {@link validateWorkflowText} that also keeps the source positions, for the loader. */
export function analyseWorkflow(text: string, file: string): WorkflowAnalysis {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const map = new SourceMap(doc, lines, text);
  const issueAt = (path: Segment[], target: "key" | "value", message: string): WorkflowIssue => ({
    file,
    ...map.position(path, target),
    path: formatPath(path),
    message: oneLine(message),
  });
  let warnings: WorkflowIssue[] = [];
  const result = (issues: WorkflowIssue[], workflow?: Workflow): WorkflowAnalysis => ({
    issues: sortIssues(issues),
    warnings: sortIssues(warnings),
    issueAt,
    ...(workflow ? { workflow } : {}),
  });

  if (doc.errors.length > 0) {
    return result(doc.errors.map((e) => ({ file, ...map.at(e.pos[0]), path: "", message: oneLine(`${e.message}; the file is not valid YAML`) })));
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (e) {
    return result([{ file, line: 1, column: 1, path: "", message: oneLine(`${(e as Error).message}; the file cannot be read as data`) }]);
  }
  if (data === null || data === undefined) {
    return result([{ file, line: 1, column: 1, path: "", message: "the file is empty; expected a workflow with version: 1 and steps" }]);
  }
  const validate = workflowSchemaValidator();
  const found: PathIssue[] = validate(data) ? [] : schemaIssues(validate.errors ?? [], data);
  const issues = found.map((i) => issueAt(i.path, i.target, i.message));
  if (isRecord(data)) {
    issues.push(...semanticIssues(data, map, issueAt).map((i) => ({ ...i, file })));
    warnings = runWarnings(data, map).map((w) => ({ ...w, file }));
  }
  return issues.length > 0 ? result(dedupe(issues)) : result([], normalise(data as Workflow));
}

type Located = Omit<WorkflowIssue, "file">;
type StepEntry = { step: Record<string, unknown>; path: Segment[]; order: number };

function semanticIssues(
  data: Record<string, unknown>,
  map: SourceMap,
  issueAt: (path: Segment[], target: "key" | "value", message: string) => WorkflowIssue,
): Located[] {
  const issues: Located[] = [];
  const add = (path: Segment[], target: "key" | "value", message: string) => issues.push(issueAt(path, target, message));
  const steps = stepEntries(data["steps"], ["steps"]);
  const ids = new Map<string, StepEntry>();
  for (const entry of steps) {
    const id = entry.step["id"];
    if (typeof id !== "string") continue;
    const first = ids.get(id);
    if (first) add([...entry.path, "id"], "value", `id "${id}" is already used by ${formatPath(first.path)}; expected a unique id`);
    else ids.set(id, entry);
  }
  for (const entry of steps) {
    const { step, path } = entry;
    for (const [need, needPath] of needsOf(step["needs"], [...path, "needs"])) {
      const target = ids.get(need);
      if (!target) {
        add(needPath, "value", `unknown step id "${need}"${didYouMean(need, [...ids.keys()])}; expected the id of an earlier step`);
      } else if (target === entry) {
        add(needPath, "value", `a step cannot need itself; expected the id of an earlier step`);
      } else if (target.order > entry.order) {
        add(needPath, "value", `step "${need}" comes later (${formatPath(target.path)}); expected the id of an earlier step`);
      }
    }
    if (typeof step["include"] === "string" && isTemplate(step["include"])) {
      add([...path, "include"], "value", "${{ }} is not allowed here; expected a fixed path, read when the workflow is loaded");
    }
    const clone = step["clone"];
    if (isRecord(clone) && clone["from"] !== undefined && clone["git"] !== undefined) {
      add([...path, "clone", "git"], "key", '"git" and "from" cannot be used together; expected one of them');
    }
    const log = isRecord(step["wait"]) ? step["wait"]["log"] : undefined;
    const line = isRecord(log) ? log["line"] : undefined;
    if (typeof line === "string" && !isTemplate(line)) {
      const problem = regexProblem(line);
      if (problem) add([...path, "wait", "log", "line"], "value", `${problem}; expected a substring or a valid /regex/`);
    }
  }
  const vars = isRecord(data["vars"]) ? Object.keys(data["vars"]) : [];
  const scope: Scope = { ids: [...ids.keys()], vars, stepPaths: new Set(steps.map((s) => formatPath(s.path))) };
  forEachString(data, [], (text, path) => issues.push(...expressionIssues(text, path, scope, map)));
  return issues;
}

/**
 * `${{ env.* }}`, `${{ vars.* }}` and `${{ steps.<id>.outputs.* }}` in a `run:` script: the value
 * is pasted into the shell text (as in GitHub Actions), so a value holding quotes, `;` or `$(…)`
 * (a branch name, a pull request title, a step's output) runs as commands. Like actionlint, warn
 * and point to the safe form: the value in the environment, read as "$VAR". A script that is
 * nothing but one `${{ }}` (`run: ${{ vars.test }}`) is a command on purpose, and not warned about.
 */
function runWarnings(data: Record<string, unknown>, map: SourceMap): Located[] {
  const warnings: Located[] = [];
  for (const { step, path } of stepEntries(data["steps"], ["steps"])) {
    const script = step["run"];
    if (typeof script !== "string" || !isTemplate(script)) continue;
    let parts: ReturnType<typeof parseTemplate>;
    try {
      parts = parseTemplate(script);
    } catch {
      continue; // an issue already
    }
    const runPath = [...path, "run"];
    const exprs = parts.filter((p) => p.kind === "expr" || p.text.trim() !== "");
    if (exprs.length === 1 && exprs[0]!.kind === "expr") continue;
    for (const part of parts) {
      if (part.kind !== "expr") continue;
      for (const ref of references(part.expression.root)) {
        const safe = safeForm(ref.path);
        if (!safe) continue;
        warnings.push({
          ...map.positionInString(runPath, ref.offsets[0]!),
          path: formatPath(runPath),
          message: `\${{ ${ref.path.join(".")} }} is pasted into the script as text, so a value holding quotes, ";" or $(…) runs as shell commands; ${safe}`,
        });
      }
    }
  }
  return warnings;
}

/** What to write instead of a risky reference in a `run:` script, or undefined when it is not risky. */
function safeForm(path: string[]): string | undefined {
  const [context, name, field, key] = path;
  if (context === "env" && name !== undefined) {
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
      ? `it is in the step's environment already: use "$${name}" instead`
      : `pass it through env: with a shell-safe name and use "$NAME" instead`;
  }
  const viaEnv = (ref: string, leaf: string) => {
    const v = shellName(leaf);
    return `pass it through env: (env: { ${v}: "\${{ ${ref} }}" }) and use "$${v}" instead`;
  };
  if (context === "vars" && name !== undefined) return viaEnv(path.join("."), name);
  if (context === "steps" && field === "outputs") return viaEnv(path.join("."), `${name}_${key ?? "outputs"}`);
  return undefined;
}

/** Names a suggested variable must not take: the shell and the run step rely on them. */
const RESERVED = new Set(["PATH", "HOME", "SHELL", "IFS", "PWD", "OLDPWD", "USER", "LANG", "TERM", "ENV", "BASH_ENV", "CDPATH", "TMPDIR", "HOSTNAME", "PS4"]);

function shellName(s: string): string {
  let n = s.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
  if (/^[0-9]/.test(n)) n = `_${n}`;
  return RESERVED.has(n) || n.startsWith("CILO_") || n.startsWith("LD_") ? `${n}_VALUE` : n;
}

interface Scope {
  ids: string[];
  vars: string[];
  stepPaths: Set<string>;
}

/** Parses the expressions of one string value and checks the names they read. */
function expressionIssues(text: string, path: Segment[], scope: Scope, map: SourceMap): Located[] {
  const field = path.at(-1);
  const inStep = scope.stepPaths.has(formatPath(path.slice(0, -1)));
  if (inStep && (field === "id" || field === "include")) return [];
  if (path[0] === "version" || path.includes("needs")) return [];
  const isCondition = inStep && field === "if";
  if (!isCondition && !isTemplate(text)) return [];
  const at = (index: number, message: string): Located => ({
    ...map.positionInString(path, index),
    path: formatPath(path),
    message: oneLine(message),
  });
  let expressions: Expression[];
  try {
    expressions = isCondition ? [parseCondition(text)] : parseTemplate(text).flatMap((p) => (p.kind === "expr" ? [p.expression] : []));
  } catch (e) {
    if (e instanceof ExpressionError) return [at(e.offset, e.reason)];
    throw e;
  }
  const issues: Located[] = [];
  const ownVar = path[0] === "vars" && path.length === 2 ? scope.vars.indexOf(String(path[1])) : -1;
  for (const ref of expressions.flatMap((e) => references(e.root))) {
    const [context, name, field] = ref.path;
    const offset = ref.offsets[1] ?? ref.offsets[0]!;
    if (name === undefined) continue;
    if (context === "steps") {
      if (!scope.ids.includes(name)) {
        const known = scope.ids.length > 0 ? `the id of a step: ${scope.ids.join(", ")}` : "the id of a step (no step has an id yet)";
        issues.push(at(offset, `unknown step id "${name}"${didYouMean(name, scope.ids)}; expected ${known}`));
      } else if (field !== undefined && !(STEP_FIELDS as readonly string[]).includes(field)) {
        issues.push(at(ref.offsets[2]!, `steps.${name} has no "${field}"${didYouMean(field, STEP_FIELDS)}; expected ${STEP_FIELDS.join(" or ")}`));
      }
    } else if (context === "cilo" && !(CILO_FIELDS as readonly string[]).includes(name)) {
      issues.push(at(offset, `cilo has no "${name}"${didYouMean(name, CILO_FIELDS)}; expected one of ${CILO_FIELDS.join(", ")}`));
    } else if (context === "job" && name !== "status") {
      issues.push(at(offset, `job has no "${name}"${didYouMean(name, ["status"])}; expected status`));
    } else if (context === "vars") {
      const index = scope.vars.indexOf(name);
      if (index < 0) {
        const known = scope.vars.length > 0 ? `one of ${scope.vars.join(", ")}` : "a var declared under vars: (there are none)";
        issues.push(at(offset, `unknown var "${name}"${didYouMean(name, scope.vars)}; expected ${known}`));
      } else if (ownVar >= 0 && index >= ownVar) {
        issues.push(at(offset, `vars.${name} is not set yet here, because vars are evaluated in order; expected a var declared above`));
      }
    }
  }
  return issues;
}

/** Every step in document order, inside `parallel` too. */
function stepEntries(list: unknown, path: Segment[], into: StepEntry[] = []): StepEntry[] {
  if (!Array.isArray(list)) return into;
  list.forEach((step, i) => {
    if (!isRecord(step)) return;
    const stepPath = [...path, i];
    into.push({ step, path: stepPath, order: into.length });
    stepEntries(step["parallel"], [...stepPath, "parallel"], into);
  });
  return into;
}

function needsOf(needs: unknown, path: Segment[]): [string, Segment[]][] {
  if (typeof needs === "string") return [[needs, path]];
  if (!Array.isArray(needs)) return [];
  return needs.flatMap((n, i): [string, Segment[]][] => (typeof n === "string" ? [[n, [...path, i]]] : []));
}

function forEachString(value: unknown, path: Segment[], visit: (text: string, path: Segment[]) => void): void {
  if (typeof value === "string") visit(value, path);
  else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) forEachString(v, [...path, i], visit);
  } else if (isRecord(value)) for (const [k, v] of Object.entries(value)) forEachString(v, [...path, k], visit);
}

function regexProblem(line: string): string | undefined {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(line);
  if (!m) return undefined;
  try {
    new RegExp(m[1]!, m[2]);
    return undefined;
  } catch (e) {
    return `the regular expression ${describe(line)} is not valid (${(e as Error).message})`;
  }
}

/** The typed workflow: empty actions become `{}`, env values strings, a single `needs` a list. */
function normalise(data: Workflow): Workflow {
  const step = (s: Step): Step => {
    const out: Record<string, unknown> = { ...s };
    for (const action of ["clone", "create", "up", "down", "destroy"]) if (out[action] === null) out[action] = {};
    if (s.env) out["env"] = envStrings(s.env);
    if (typeof s.needs === "string") out["needs"] = [s.needs];
    if ("parallel" in s) out["parallel"] = s.parallel.map(step);
    return out as unknown as Step;
  };
  return { ...data, ...(data.env ? { env: envStrings(data.env) } : {}), steps: data.steps.map(step) };
}

function envStrings(env: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

/** `steps[2].wait.timeout`; keys that are not plain names are quoted: `env["MY.VAR"]`. */
export function formatPath(path: readonly Segment[]): string {
  return path
    .map((s, i) => (typeof s === "number" ? `[${s}]` : /^[A-Za-z_$][\w-]*$/.test(s) ? `${i === 0 ? "" : "."}${s}` : `[${JSON.stringify(s)}]`))
    .join("");
}

function sortIssues(issues: WorkflowIssue[]): WorkflowIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
}

function dedupe(issues: WorkflowIssue[]): WorkflowIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.line}:${i.column}:${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, " ").trim();
}
