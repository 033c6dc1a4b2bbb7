import { envKey, type EnvRecord } from "../state/schema.ts";
import { withState } from "../state/store.ts";
import { currentProject, findEnv, lookupEnv } from "./find-env.ts";

export interface DestroyEnvOptions {
  ref: string;
  project?: string;
  /** A missing env is a no-op instead of an error. */
  force?: boolean;
  keepWorkspace?: boolean;
}

/** Removes an env's state entry, releasing its subnet. Returns the removed record, if any. */
export async function destroyEnv(opts: DestroyEnvOptions): Promise<EnvRecord | undefined> {
  const project = await currentProject(opts.project);
  return withState((state) => {
    const rec = opts.force ? lookupEnv(state, opts.ref, project) : findEnv(state, opts.ref, project);
    if (!rec) return undefined;
    delete state.envs[envKey(rec.project, rec.name)];
    return rec;
  });
}
