import { interpolateDeep } from "../interpolate.ts";
import type { ActionHandler } from "./action-handler.ts";

/** `create`: makes the env later steps work on; its outputs name it. */
export const create: ActionHandler<"create"> = {
  async attempt({ step, workflow, ctx, envs, output, progress }) {
    const rec = await envs.create(interpolateDeep(step.create, ctx), workflow.dir, progress);
    const cilo = envs.context();
    output(`Created ${rec.project}/${rec.name}\n`, "stdout");
    return { env: rec.name, project: rec.project, workspace: rec.workspace, base_url: cilo.base_url ?? "" };
  },
};
