import { StepFailed } from "../host-actions.ts";
import type { ActionHandler } from "./action-handler.ts";

/** `parallel`: its steps at once; it fails when one of them does. */
export const parallel: ActionHandler<"parallel"> = {
  composite: true,
  async attempt({ step, nested }) {
    const { failed } = await nested.runGroup(step.parallel);
    if (failed) throw new StepFailed("a step inside it failed");
    return {};
  },
};
