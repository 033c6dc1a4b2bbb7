import { StepFailed } from "../host-actions.ts";
import { interpolateValue } from "../interpolate.ts";
import { includedWorkflow } from "../load.ts";
import { stringValues } from "../string-values.ts";
import type { ActionHandler } from "./action-handler.ts";

/** `include`: another workflow file's steps in a scope of their own; its outputs are theirs, merged in order. */
export const include: ActionHandler<"include"> = {
  composite: true,
  async attempt({ step, workflow, ctx, nested }) {
    const child = includedWorkflow(workflow, step);
    const values = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, typeof v === "string" ? interpolateValue(v, ctx) : v]));
    const inner = await nested.runWorkflow(child, values);
    const outputs: Record<string, string> = Object.assign({}, ...Object.values(inner.steps).map((r) => stringValues(r.outputs)));
    if (inner.failed) throw new StepFailed(`a step of ${step.include} failed`, outputs);
    return outputs;
  },
};
