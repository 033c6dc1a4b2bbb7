import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { usageError } from "../core/errors.ts";
import { schemaReference, shippedSchema } from "../core/schema-ref.ts";
import { didYouMean } from "../core/suggest.ts";

/** A file `cilo workflow new` can start from. */
export interface WorkflowTemplate {
  /** `e2e`, `agent`, `preview`, `ci/github-actions`, … */
  name: string;
  /** From the file's first comment line. */
  description: string;
  /** `workflow` files validate as cilo workflows; `ci` files are CI job snippets that call cilo. */
  kind: "workflow" | "ci";
  path: string;
  /** Where `cilo workflow new` writes it unless `--output` says otherwise. */
  defaultOutput: string;
}

export const DEFAULT_TEMPLATE = "e2e";

/** The YAML language server's modeline, up to the schema's path. */
export const YAML_SCHEMA_LINE = "# yaml-language-server: $schema=";

/** CI snippets land where their CI looks for them. */
const CI_OUTPUTS: Record<string, string> = {
  "ci/github-actions": ".github/workflows/cilo.yml",
  "ci/gitlab-ci": ".gitlab-ci.yml",
};

/**
 * The `templates/` folder at the package root. This file is two levels below the root both in
 * the sources (`src/workflow/`) and in the bundle (`dist/chunks/`), like the schema.
 */
export function templatesDir(): string {
  return fileURLToPath(new URL("../../templates/", import.meta.url));
}

/** Every template, workflows first, by name. */
export function listTemplates(dir = templatesDir()): WorkflowTemplate[] {
  const found: WorkflowTemplate[] = [];
  const scan = (sub: string, kind: WorkflowTemplate["kind"]) => {
    const folder = resolve(dir, sub);
    if (!existsSync(folder)) return;
    for (const file of readdirSync(folder).sort()) {
      if (!/\.ya?ml$/.test(file)) continue;
      const name = `${sub ? `${sub}/` : ""}${file.replace(/\.ya?ml$/, "")}`;
      const path = resolve(folder, file);
      found.push({ name, description: describe(path), kind, path, defaultOutput: CI_OUTPUTS[name] ?? "cilo.workflow.yaml" });
    }
  };
  scan("", "workflow");
  scan("ci", "ci");
  return found;
}

/**
 * Copies a template to `output` (default: the template's usual place, under `cwd`); never
 * overwrites. A workflow starts with the `# yaml-language-server: $schema=` line naming the
 * workflow schema of this installed cilo (see `schemaReference`), so editors complete and check it.
 */
export function newFromTemplate(opts: { template?: string; output?: string; cwd?: string } = {}): { template: WorkflowTemplate; path: string } {
  const name = opts.template ?? DEFAULT_TEMPLATE;
  const all = listTemplates();
  const template = all.find((t) => t.name === name);
  if (!template) {
    const names = all.map((t) => t.name);
    throw usageError(
      `There is no template "${name}"${didYouMean(name, names)}; the templates are ${names.join(", ")}`,
      "cilo workflow list-templates describes them",
    );
  }
  const path = resolve(opts.cwd ?? process.cwd(), opts.output ?? template.defaultOutput);
  if (existsSync(path))
    throw usageError(`${path} already exists; cilo workflow new does not overwrite files`, "Pass another file with --output, or remove it first");
  mkdirSync(dirname(path), { recursive: true });
  const text = readFileSync(template.path, "utf8");
  const modeline = template.kind === "workflow" ? `${YAML_SCHEMA_LINE}${schemaReference(shippedSchema("cilo.workflow.schema.json"), path)}\n` : "";
  writeFileSync(path, modeline + text, { flag: "wx" });
  return { template, path };
}

function describe(path: string): string {
  const first = readFileSync(path, "utf8")
    .split("\n")
    .find((l) => l.startsWith("#") && !l.includes("yaml-language-server"));
  return (first ?? "").replace(/^#\s*/, "").trim();
}
