import { interpolateDeep } from "../interpolate.ts";
import { waitFor } from "../wait/wait-for.ts";
import type { ActionHandler } from "./action-handler.ts";

/** `wait`: until all its conditions hold, checked against the env's containers and DNS names. */
export const wait: ActionHandler<"wait"> = {
  async attempt({ step, ctx, signal, envs }) {
    const containers = await envs.containers();
    const dns = envs.dns();
    await waitFor(interpolateDeep(step.wait, ctx), { ...(containers ? { env: containers } : {}), ...(dns ? { dns } : {}) }, signal);
    return {};
  },
};
