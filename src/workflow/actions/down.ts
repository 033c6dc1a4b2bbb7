import type { ActionHandler } from "./action-handler.ts";

/** `down`: stops the env's services. */
export const down: ActionHandler<"down"> = {
  async attempt({ envs, progress }) {
    await envs.down(progress);
    return {};
  },
};
