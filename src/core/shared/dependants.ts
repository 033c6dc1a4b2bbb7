import { envKey, type EnvRecord, type State } from "../state/schema.ts";

/** Envs that join `rec`'s network (`--shared-network`), as `<project>/<env>`, sorted. */
export function dependantsOf(state: State, rec: EnvRecord): string[] {
  const key = envKey(rec.project, rec.name);
  return Object.values(state.envs)
    .filter((e) => (e.shared_networks ?? []).includes(key))
    .map((e) => envKey(e.project, e.name))
    .sort();
}
