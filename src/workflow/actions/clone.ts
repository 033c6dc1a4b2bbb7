import { interpolateDeep } from "../interpolate.ts";
import type { ActionHandler } from "./action-handler.ts";

/** `clone`: records the workspace source for the next `create`. */
export const clone: ActionHandler<"clone"> = {
  async attempt({ step, workflow, ctx, envs, output }) {
    output(`Workspace source: ${envs.clone(interpolateDeep(step.clone, ctx), workflow.dir)}\n`, "stdout");
    return {};
  },
};
