import { resolve } from "node:path";
import { defaultShell } from "../../core/env/run-in-env.ts";
import { runHostCommand } from "../host-actions.ts";
import { interpolate } from "../interpolate.ts";
import type { ActionHandler } from "./action-handler.ts";

/** `run`: a host command in the workspace (or the workflow's folder); its outputs are what it wrote to `$CILO_OUTPUT`. */
export const run: ActionHandler<"run"> = {
  async attempt({ step, workflow, ctx, signal, envs, output, outputsFile, onProcessGroup }) {
    const base = envs.workspace() ?? workflow.dir;
    return await runHostCommand({
      command: interpolate(step.run, ctx),
      shell: step.shell ?? workflow.workflow.defaults?.shell ?? defaultShell(envs.core.env),
      cwd: step.cwd === undefined ? base : resolve(base, interpolate(step.cwd, ctx)),
      env: definedOnly({ ...ctx.env, ...envs.caEnvironment(ctx.env ?? process.env), ...envs.environment() }),
      signal,
      output: (l, s) => output(`${l}\n`, s),
      outputsFile: outputsFile(),
      onProcessGroup,
    });
  },
};

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
