import type { CiloContext } from "../../core/context/context.ts";
import { downEnv } from "../../core/env/down-env.ts";
import { envView } from "../../core/env/env-view.ts";
import { readState } from "../../core/state/store.ts";
import { printJson, println } from "../output.ts";

export default async function down(ctx: CiloContext, env: string, opts: { project?: string; force?: boolean; json?: boolean }): Promise<number> {
  const rec = await downEnv(ctx, {
    ref: env,
    force: !!opts.force,
    ...(opts.project ? { project: opts.project } : {}),
    ...(process.stderr.isTTY ? { onOutput: (c: string) => process.stderr.write(c) } : {}),
  });
  if (opts.json) printJson(envView(ctx, readState(ctx), rec));
  else println(`Stopped ${rec.project}/${rec.name}`);
  return 0;
}
