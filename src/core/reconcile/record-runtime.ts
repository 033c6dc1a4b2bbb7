import type { CiloContext } from "../context/context.ts";
import { mergeRuntime } from "../env/services.ts";
import { LABEL_SERVICE } from "../labels.ts";
import { envContainers } from "../runtime/env-resources.ts";
import type { EnvRecord, EnvStatus } from "../state/schema.ts";
import { readState, withState } from "../state/store.ts";
import { isLive } from "./env-facts.ts";
import { isProcessAlive } from "../proc/processes.ts";
import { envContext } from "../env/env-context.ts";

/**
 * Runtime is truth: records in the env's cached state what Docker runs — each service's state,
 * health and IP — and marks the env `running` when every service runs (or is a one-shot that
 * exited 0). When not, the env gets `otherwise` (if given). An operation marker whose process is
 * gone is cleared. Returns the updated record, undefined when the env does not exist.
 */
export async function recordRuntime(ctx: CiloContext, key: string, otherwise?: { status: EnvStatus; error: string }): Promise<EnvRecord | undefined> {
  const current = readState(ctx);
  const before = current.envs[key];
  if (!before) return undefined;
  // On the env's engine: its host's for an env created with --on.
  const containers = await envContainers(await envContext(ctx, before).provider(), before, current.home_id);
  return withState(ctx, (state) => {
    const cur = state.envs[key];
    if (!cur) return undefined;
    const allLive = cur.services.length > 0 && cur.services.every((s) => containers.some((c) => c.labels[LABEL_SERVICE] === s.name && isLive(c)));
    cur.services = mergeRuntime(cur.services, containers, cur.docker_name);
    if (allLive) {
      cur.status = "running";
      delete cur.error;
    } else if (otherwise) {
      cur.status = otherwise.status;
      cur.error = otherwise.error;
    }
    if (cur.operation && !isProcessAlive(cur.operation.pid, { startedBefore: Date.parse(cur.operation.started_at) })) delete cur.operation;
    cur.updated_at = new Date().toISOString();
    return { ...cur };
  });
}
