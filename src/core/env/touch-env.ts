import type { CiloContext } from "../context/context.ts";
import { withState } from "../state/store.ts";

/**
 * Records that the env was used now (`last_used_at`): `cilo gc --idle` / `--older-than` counts from
 * it. Every operation on an env records it (create and up themselves; run, down, exec, logs,
 * compose and the MCP tools through this); reading it (status, list) does not.
 */
export async function touchEnv(ctx: CiloContext, key: string): Promise<void> {
  await withState(ctx, (st) => {
    const cur = st.envs[key];
    if (cur) cur.last_used_at = new Date(ctx.clock.now()).toISOString();
  });
}
