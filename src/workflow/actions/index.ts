import type { ActionName } from "../types.ts";
import type { ActionHandler } from "./action-handler.ts";
import { clone } from "./clone.ts";
import { create } from "./create.ts";
import { destroy } from "./destroy.ts";
import { down } from "./down.ts";
import { exec } from "./exec.ts";
import { include } from "./include.ts";
import { parallel } from "./parallel.ts";
import { run } from "./run.ts";
import { up } from "./up.ts";
import { wait } from "./wait.ts";

export type { ActionHandler, ActionRun, NestedSteps, StepOf } from "./action-handler.ts";

/** Every step action's handler; a new action in `ACTIONS` does not type-check until it is here. */
export const ACTION_HANDLERS: { readonly [A in ActionName]: ActionHandler<A> } = { clone, create, up, down, wait, run, exec, destroy, parallel, include };

/** The handler of `action`, for a step whose action it is. */
export function handlerOf(action: ActionName): ActionHandler {
  return ACTION_HANDLERS[action];
}
