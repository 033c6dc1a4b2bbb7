import type { CiloContext } from "../core/context/context.ts";
import { reachEnv } from "../core/env/env-context.ts";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { envComposeTarget } from "../core/env/compose-target.ts";
import { CiloError } from "../core/errors.ts";
import type { EnvRecord } from "../core/state/schema.ts";
import { runShellCommand } from "./shell-command.ts";
import { parseStepOutputs } from "./step-outputs.ts";
import type { ExecAction } from "./types.ts";
import { lineBuffer, type LineOutput } from "./line-buffer.ts";

/** Kept here for the engine, which imports them from this module. */
export { lineBuffer, type LineOutput };

/** A step that failed, with the outputs it wrote before failing. */
export class StepFailed extends CiloError {
  readonly outputs: Record<string, string>;

  constructor(message: string, outputs: Record<string, string> = {}) {
    super("E_STEP_FAILED", message);
    this.name = "StepFailed";
    this.outputs = outputs;
  }
}

export interface HostCommand {
  command: string;
  shell: string;
  cwd: string;
  env: Record<string, string | undefined>;
  signal: AbortSignal;
  output: LineOutput;
  /** The file `$CILO_OUTPUT` names; read (and removed) when the command ends. */
  outputsFile: string;
  /** Told the command's process group, so the run can end what it left running. */
  onProcessGroup: (pgid: number) => void;
}

/** A `run` step: the command through the shell; its outputs are what it wrote to `$CILO_OUTPUT`. */
export async function runHostCommand(c: HostCommand): Promise<Record<string, string>> {
  if (!existsSync(c.cwd) || !statSync(c.cwd).isDirectory()) {
    throw new CiloError("E_STEP_CWD", `The working folder ${c.cwd} does not exist`);
  }
  writeFileSync(c.outputsFile, "");
  try {
    const r = await runShellCommand({
      shell: c.shell,
      command: c.command,
      cwd: c.cwd,
      env: { ...c.env, CILO_OUTPUT: c.outputsFile },
      signal: c.signal,
      onLine: c.output,
      onStart: c.onProcessGroup,
    });
    const outputs = parseStepOutputs(readFileSync(c.outputsFile, "utf8"));
    if (r.code !== 0) throw new StepFailed(r.signal ? `killed by ${r.signal}` : `exited with code ${r.code}`, outputs);
    return outputs;
  } finally {
    rmSync(c.outputsFile, { force: true });
  }
}

/** An `exec` step: `compose exec -T` in a service; a command line runs with `sh -c`. */
export async function execInService(core: CiloContext, rec: EnvRecord, action: ExecAction, signal: AbortSignal, output: LineOutput): Promise<void> {
  const args = ["exec", "-T"];
  if (action.user) args.push("--user", action.user);
  if (action.workdir) args.push("--workdir", action.workdir);
  args.push(action.service, ...(typeof action.command === "string" ? ["sh", "-c", action.command] : action.command));
  const lines = lineBuffer(output);
  const hctx = await reachEnv(core, rec); // an env on a host: that host's engine
  const r = await hctx.runCompose(await hctx.compose(), envComposeTarget(rec), args, { signal, onOutput: lines.write });
  lines.flush();
  if (r.code !== 0) throw new StepFailed(`exited with code ${r.code}`);
}

/** A fresh `$CILO_OUTPUT` path in the run's folder. */
export function outputsPath(dir: string, n: number): string {
  return join(dir, `step-${n}.out`);
}
