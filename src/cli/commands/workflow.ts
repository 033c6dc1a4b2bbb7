import type { CiloContext } from "../../core/context/context.ts";
import { relative } from "node:path";
import { CiloError, ExitCode, usageError } from "../../core/errors.ts";
import { formatIssue, loadWorkflow, WorkflowInvalidError } from "../../workflow/load.ts";
import { listTemplates, newFromTemplate } from "../../workflow/templates.ts";
import { printJson, println, table, warn } from "../output.ts";

interface WorkflowOptions {
  template?: string;
  output?: string;
  json?: boolean;
  allowInclude?: string | string[];
}

const ACTIONS = ["new", "validate", "list-templates"];

/** `cilo workflow new | validate <file> | list-templates`. */
export default async function workflow(_ctx: CiloContext, action: string, file: string | undefined, opts: WorkflowOptions): Promise<number> {
  if (action === "new") {
    if (file !== undefined) throw usageError(`cilo workflow new takes no file argument`, "Name the file with --output");
    const made = newFromTemplate({ ...(opts.template ? { template: opts.template } : {}), ...(opts.output ? { output: opts.output } : {}) });
    if (opts.json) printJson({ template: made.template.name, path: made.path });
    else println(`Wrote ${relative(process.cwd(), made.path) || made.path} from the ${made.template.name} template`);
    return 0;
  }
  if (action === "validate") {
    if (file === undefined) throw usageError("cilo workflow validate needs a file", "cilo workflow validate cilo.workflow.yaml");
    const allow = opts.allowInclude === undefined ? [] : [opts.allowInclude].flat().map(String);
    return validate(file, opts.json === true, allow);
  }
  if (action === "list-templates") {
    const templates = listTemplates();
    if (opts.json) printJson(templates.map(({ name, kind, description, defaultOutput }) => ({ name, kind, description, output: defaultOutput })));
    else
      println(
        table(
          ["NAME", "KIND", "WRITES", "DESCRIPTION"],
          templates.map((t) => [t.name, t.kind, t.defaultOutput, t.description]),
        ),
      );
    return 0;
  }
  throw usageError(`Unknown workflow action "${action}"; expected one of ${ACTIONS.join(", ")}`);
}

/**
 * Prints `OK <file>` (after its warnings, on stderr, which do not fail it), or every problem as
 * `file:line:col: …` and fails with exit 2.
 */
async function validate(file: string, json: boolean, allowInclude: string[]): Promise<number> {
  try {
    const loaded = await loadWorkflow(file, { allowInclude });
    if (json) printJson({ file, valid: true, name: loaded.name, steps: loaded.workflow.steps.length, issues: [], warnings: loaded.warnings });
    else {
      for (const w of loaded.warnings) warn(formatIssue(w));
      println(`OK ${file}`);
    }
    return 0;
  } catch (e) {
    if (!(e instanceof WorkflowInvalidError)) throw e;
    if (json) printJson({ file, valid: false, issues: e.issues });
    else for (const issue of e.issues) println(formatIssue(issue));
    const n = e.issues.length;
    throw new CiloError("E_WORKFLOW_INVALID", `${file} is not a valid workflow: ${n} problem${n === 1 ? "" : "s"}${json ? "" : " (listed above)"}`, {
      exitCode: ExitCode.usage,
    });
  }
}
