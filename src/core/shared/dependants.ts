import { envKeysJoining, forEachIndexLite } from "../state/layout.ts";
import { envKey, type EnvRecord, type State } from "../state/schema.ts";

/** Envs that join `rec`'s network (`--shared-network`), as `<project>/<env>`, sorted. */
export function dependantsOf(state: State, rec: EnvRecord): string[] {
  const key = envKey(rec.project, rec.name);
  // The index keeps shared_networks: no env record is read, and of a sealed index only the lines naming the env.
  return envKeysJoining(state, key).sort();
}

/**
 * Every env's dependants at once, by `<project>/<env>`, each list sorted: one pass over the envs,
 * for callers that need them for many envs (`cilo list --json`, `cilo shared`).
 */
/** `dependantsIndex` from the state's index: no record is read. */
export function dependantsFromIndex(state: State): Map<string, string[]> {
  const index = new Map<string, string[]>();
  forEachIndexLite(state, (key, e) => {
    for (const joined of e.shared_networks ?? []) {
      const list = index.get(joined);
      if (list) list.push(key);
      else index.set(joined, [key]);
    }
  });
  for (const list of index.values()) list.sort();
  return index;
}

export function dependantsIndex(state: State): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const e of Object.values(state.envs)) {
    for (const joined of e.shared_networks ?? []) {
      const list = index.get(joined);
      if (list) list.push(envKey(e.project, e.name));
      else index.set(joined, [envKey(e.project, e.name)]);
    }
  }
  for (const list of index.values()) list.sort();
  return index;
}
