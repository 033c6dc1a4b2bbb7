import { interpolateDeep } from "../interpolate.ts";
import type { ActionHandler } from "./action-handler.ts";

/** `destroy`: removes the env (and, unless `keep_workspace`, its workspace). */
export const destroy: ActionHandler<"destroy"> = {
  async attempt({ step, ctx, envs, progress }) {
    await envs.destroy(interpolateDeep(step.destroy, ctx), progress);
    return {};
  },
};
