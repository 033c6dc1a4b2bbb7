import { interpolateDeep } from "../interpolate.ts";
import type { ActionHandler } from "./action-handler.ts";

/** `create`: makes the env later steps work on; its outputs name it. */
export const create: ActionHandler<"create"> = {
  async attempt({ step, workflow, ctx, envs, output, progress }) {
    const { env: rec, seeded } = await envs.create(interpolateDeep(step.create, ctx), workflow.dir, progress);
    const cilo = envs.context();
    output(`Created ${rec.project}/${rec.name}\n`, "stdout");
    const seed = seeded?.volumes ?? [];
    return {
      env: rec.name,
      project: rec.project,
      workspace: rec.workspace,
      base_url: cilo.base_url ?? "",
      // How each seeded volume was copied (`reflink`, `copy` or `tar`) and how fast, in volume order.
      ...(seed.length > 0 ? { seed_path: seed.map((v) => v.path).join(","), seed_bytes_per_s: seed.map((v) => String(v.bytes_per_s)).join(",") } : {}),
    };
  },
};
