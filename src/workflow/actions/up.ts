import { interpolateDeep } from "../interpolate.ts";
import type { ActionHandler } from "./action-handler.ts";

/** `up`: starts the env's services. */
export const up: ActionHandler<"up"> = {
  async attempt({ step, ctx, signal, envs, progress }) {
    await envs.up(interpolateDeep(step.up, ctx), signal, progress);
    return {};
  },
};
