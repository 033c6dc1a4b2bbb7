import { usageError } from "../errors.ts";
import { parseEnvRef, qualifiedEnv } from "../names.ts";
import { closest } from "../suggest.ts";
import { envKeys, envKeysNamed } from "./layout.ts";
import { envKey, type EnvRecord, type State } from "./schema.ts";

/**
 * Finds the env a user means (docs/cli.md "Names and which env"): `<project>:<env>` is explicit;
 * any other string is an env name as a whole (the branch `feat/login` is the env `feat-login`) of
 * the current project or, outside a project folder, of the one project that has it. The old
 * `<project>/<env>` still finds an env of that project when the whole string names no env; when it
 * names one too, exit 2 says how to write each. Unknown names are a usage error (exit 2).
 */
export function findEnv(state: State, ref: string, currentProject?: string): EnvRecord {
  const found = lookupEnv(state, ref, currentProject);
  if (found) return found;
  const explicit = parseEnvRef(ref).project !== undefined;
  const names = Object.values(state.envs).flatMap((e) => [e.name, qualifiedEnv(e.project, e.name)]);
  const near = closest(ref, [...new Set(names)]);
  throw usageError(
    `No env "${ref}" exists${currentProject && !explicit ? ` in project "${currentProject}"` : ""}${near ? ` (did you mean "${near}"?)` : ""}`,
    /^[A-Za-z0-9][A-Za-z0-9._/:-]*$/.test(ref) ? `Create it with: cilo create ${ref}; cilo list shows the envs` : "Run cilo list to see the envs",
  );
}

export function lookupEnv(state: State, ref: string, currentProject?: string): EnvRecord | undefined {
  const r = parseEnvRef(ref);
  if (r.project) return state.envs[envKey(r.project, r.env)];
  const legacy = r.legacy ? state.envs[envKey(r.legacy.project, r.legacy.env)] : undefined;
  let whole: EnvRecord | undefined;
  if (currentProject) {
    whole = state.envs[envKey(currentProject, r.env)];
  } else {
    // By key (`<project>/<env>`): only the records found are read.
    const keys = envKeysNamed(state, r.env);
    const matches = keys.flatMap((k) => state.envs[k] ?? []);
    if (matches.length > 1) {
      const choices = [...matches, ...(legacy ? [legacy] : [])].map((m) => qualifiedEnv(m.project, m.name)).sort();
      throw usageError(`The env name "${r.env}" exists in several projects: ${choices.join(", ")}`, "Name it as <project>:<env>");
    }
    whole = matches[0];
  }
  if (whole && legacy) {
    throw usageError(
      `"${ref}" names two envs: "${whole.name}" of project "${whole.project}" (the whole name) and "${legacy.name}" of project "${legacy.project}"`,
      `Write ${qualifiedEnv(whole.project, ref)} for the first or ${qualifiedEnv(legacy.project, legacy.name)} for the second`,
    );
  }
  return whole ?? legacy;
}

/** What a command that creates a missing env (`cilo run`) works on: the env, or the project and name to create. */
export type EnvTarget = { rec: EnvRecord } | { project?: string; env: string };

export function findOrNameEnv(state: State, ref: string, currentProject?: string): EnvTarget {
  const rec = lookupEnv(state, ref, currentProject);
  if (rec) return { rec };
  const r = parseEnvRef(ref);
  if (r.project) return { project: r.project, env: r.env };
  const legacy = r.legacy;
  if (legacy && envKeys(state).some((k) => k.slice(0, k.indexOf("/")) === legacy.project)) {
    const here = currentProject ?? "<project>";
    throw usageError(
      `"${ref}" could be a new env "${r.env}" of project "${here}" (the whole name) or a new env "${legacy.env}" of the existing project "${legacy.project}"`,
      `Write ${qualifiedEnv(here, ref)} for the first or ${qualifiedEnv(legacy.project, legacy.env)} for the second`,
    );
  }
  return { ...(currentProject ? { project: currentProject } : {}), env: r.env };
}

/** The env records, of one project or all, sorted by project then name: the order of `cilo list`. */
export function envRecords(state: State, project?: string): EnvRecord[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return Object.values(state.envs)
    .filter((e) => !project || e.project === project)
    .sort((a, b) => (a.project === b.project ? cmp(a.name, b.name) : cmp(a.project, b.project)));
}
