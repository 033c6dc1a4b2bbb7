import { HOST_LABEL as DNS_LABEL, shown } from "./dns-names.ts";
import { usageError } from "./errors.ts";

/**
 * Normalises an env or project name (SPEC §6a): lower-cased, `/`, `_` and white space become `-`;
 * the result must be a DNS label, otherwise a usage error (exit 2).
 */
export function normaliseName(input: string, kind: "env" | "project" = "env"): string {
  const name = input
    .trim()
    .toLowerCase()
    .replace(/[/_\s]+/g, "-");
  if (name.length === 0) {
    throw usageError(`The ${kind} name is empty`, `Give ${kind === "env" ? "an" : "a"} ${kind} name such as "feat-login"`);
  }
  if (name.length > 63) {
    throw usageError(
      `The ${kind} name ${shown(input, 40)} is ${name.length} characters long, more than the 63 a DNS label allows`,
      `Use a shorter ${kind} name`,
    );
  }
  if (!DNS_LABEL.test(name)) {
    throw usageError(`The ${kind} name ${shown(input, 40)} is not valid: use letters, digits and "-", starting and ending with a letter or digit`);
  }
  return name;
}

export function isDnsLabel(s: string): boolean {
  return DNS_LABEL.test(s);
}

/**
 * A reference to an env as typed by a user (docs/cli.md "Names and which env"):
 * - `<project>:<env>` names both (`shop:feat/login`); git refs cannot contain `:`, so this is never
 *   a branch name;
 * - anything else is an env name, normalised as a whole (`feat/login` → `feat-login`), so a branch
 *   name means the same env in every command.
 * `legacy` is the old `<project>/<env>` reading of a string with one `/`, which find-env.ts accepts
 * only where it is unambiguous.
 */
export interface EnvRef {
  project?: string;
  env: string;
  legacy?: { project: string; env: string };
}

export function parseEnvRef(input: string): EnvRef {
  const colon = input.indexOf(":");
  if (colon !== -1) {
    if (input.indexOf(":", colon + 1) !== -1) {
      throw usageError(`The env ${shown(input, 40)} has more than one ":"`, 'Write it as <env> (a branch name such as "feat/login") or <project>:<env>');
    }
    return { project: normaliseName(input.slice(0, colon), "project"), env: normaliseName(input.slice(colon + 1)) };
  }
  const env = normaliseName(input);
  const parts = input.split("/");
  const project = parts.length === 2 ? validName(parts[0]!, "project") : undefined;
  const rest = parts.length === 2 ? validName(parts[1]!, "env") : undefined;
  return project && rest ? { env, legacy: { project, env: rest } } : { env };
}

/** The normalised name, or undefined where normaliseName refuses it. */
export function validName(input: string, kind: "env" | "project"): string | undefined {
  try {
    return normaliseName(input, kind);
  } catch {
    return undefined;
  }
}

/** How to write an env unambiguously in every command: `<project>:<env>`. */
export function qualifiedEnv(project: string, env: string): string {
  return `${project}:${env}`;
}
