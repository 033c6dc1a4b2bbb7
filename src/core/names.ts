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

/** A reference to an env as typed by a user: `<env>` or `<project>/<env>`. */
export interface EnvRef {
  project?: string;
  env: string;
}

export function parseEnvRef(input: string): EnvRef {
  const slash = input.indexOf("/");
  if (slash > 0 && input.indexOf("/", slash + 1) === -1) {
    const project = input.slice(0, slash);
    const env = input.slice(slash + 1);
    if (env.length > 0 && !project.startsWith(".")) {
      return { project: normaliseName(project, "project"), env: normaliseName(env) };
    }
  }
  return { env: normaliseName(input) };
}
