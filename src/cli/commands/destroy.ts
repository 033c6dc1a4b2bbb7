import { destroyEnv } from "../../core/env/destroy-env.ts";
import { println } from "../output.ts";

interface DestroyOptions {
  force?: boolean;
  keepWorkspace?: boolean;
  project?: string;
}

export default async function destroy(env: string, opts: DestroyOptions): Promise<number> {
  const result = await destroyEnv({ ref: env, force: !!opts.force, keepWorkspace: !!opts.keepWorkspace, ...(opts.project ? { project: opts.project } : {}) });
  if (result) println(`Destroyed ${result.project}/${result.name}`);
  return 0;
}
