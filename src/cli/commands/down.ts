import type { CiloContext } from "../../core/context/context.ts";
import { downEnv } from "../../core/env/down-env.ts";
import { println } from "../output.ts";

export default async function down(ctx: CiloContext, env: string, opts: { project?: string; force?: boolean }): Promise<number> {
  const rec = await downEnv(ctx, {
    ref: env,
    force: !!opts.force,
    ...(opts.project ? { project: opts.project } : {}),
    ...(process.stderr.isTTY ? { onOutput: (c: string) => process.stderr.write(c) } : {}),
  });
  println(`Stopped ${rec.project}/${rec.name}`);
  return 0;
}
