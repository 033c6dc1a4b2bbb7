import { usageError } from "../errors.ts";
import { normaliseName } from "../names.ts";
import { closest } from "../suggest.ts";
import { envKey, type EnvRecord, type State } from "./schema.ts";

/**
 * Finds the env a user means (SPEC §6a): `<project>/<env>` is explicit; a bare `<env>` is the
 * current project's; outside a project folder, the only env of that name across projects.
 * Unknown or ambiguous names are a usage error (exit 2).
 */
export function findEnv(state: State, ref: string, currentProject?: string): EnvRecord {
  const found = lookupEnv(state, ref, currentProject);
  if (found) return found;
  const names = Object.values(state.envs).flatMap((e) => [e.name, `${e.project}/${e.name}`]);
  const near = closest(ref, [...new Set(names)]);
  throw usageError(
    `No env "${ref}" exists${currentProject ? ` in project "${currentProject}"` : ""}${near ? ` (did you mean "${near}"?)` : ""}`,
    /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/.test(ref)
      ? `Create it with: cilo create ${ref.includes("/") ? `${ref.slice(ref.indexOf("/") + 1)} --project ${ref.slice(0, ref.indexOf("/"))}` : ref}; cilo list shows the envs`
      : "Run cilo list to see the envs",
  );
}

export function lookupEnv(state: State, ref: string, currentProject?: string): EnvRecord | undefined {
  const slash = ref.indexOf("/");
  if (slash > 0) {
    const p = safeName(ref.slice(0, slash));
    const e = safeName(ref.slice(slash + 1));
    if (p && e) {
      const rec = state.envs[envKey(p, e)];
      if (rec) return rec;
    }
  }
  const name = normaliseName(ref);
  if (currentProject) return state.envs[envKey(currentProject, name)];
  const matches = Object.values(state.envs).filter((e) => e.name === name);
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    const choices = matches.map((m) => `${m.project}/${m.name}`).sort();
    throw usageError(`The env name "${name}" exists in several projects: ${choices.join(", ")}`, "Name it as <project>/<env>");
  }
  return undefined;
}

function safeName(s: string): string | undefined {
  try {
    return normaliseName(s);
  } catch {
    return undefined;
  }
}
