import { execInService } from "../host-actions.ts";
import { interpolateDeep } from "../interpolate.ts";
import type { ActionHandler } from "./action-handler.ts";

/** `exec`: a command in one of the env's services. */
export const exec: ActionHandler<"exec"> = {
  async attempt({ step, ctx, signal, envs, output }) {
    await execInService(envs.core, envs.require("exec"), interpolateDeep(step.exec, ctx), signal, (l, s) => output(`${l}\n`, s));
    return {};
  },
};
