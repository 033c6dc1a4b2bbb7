import { createEnv } from "../../core/env/create-env.ts";
import { printJson, println } from "../output.ts";

interface CreateOptions {
  project?: string;
  from?: string;
  json?: boolean;
}

export default async function create(env: string, opts: CreateOptions): Promise<number> {
  const rec = await createEnv({ env, ...(opts.from ? { from: opts.from } : {}), ...(opts.project ? { project: opts.project } : {}) });
  if (opts.json) printJson(rec);
  else println(`Created ${rec.project}/${rec.name} (subnet ${rec.subnet})`);
  return 0;
}
