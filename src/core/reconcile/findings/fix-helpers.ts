import { existsSync } from "node:fs";
import type { CiloContext } from "../../context/context.ts";
import { CiloError, ExitCode } from "../../errors.ts";
import { composeProcesses } from "../../proc/processes.ts";
import { hasUncommittedChanges } from "../../workspace/index.ts";
import type { FindingTarget } from "../finding.ts";

/** How long a fix waits for a compose call that outlived its killed cilo to finish. */
const COMPOSE_SETTLE_MS = 60_000;

/** Waits for a compose call that outlived its cilo (it still changes the env) to end. */
export async function composeSettled(ctx: CiloContext, project: string): Promise<void> {
  const deadline = ctx.clock.now() + COMPOSE_SETTLE_MS;
  while ((composeProcesses().get(project)?.length ?? 0) > 0) {
    if (ctx.clock.now() > deadline) throw new CiloError("E_ENV_BUSY", `A compose process of ${project} is still running after ${COMPOSE_SETTLE_MS / 1000} s`);
    await ctx.clock.sleep(250);
  }
}

/** Refuses to go on when `workspace` holds uncommitted git changes, unless `force`. */
export async function refuseDirty(ctx: CiloContext, workspace: string, force: boolean): Promise<void> {
  if (force || !existsSync(workspace) || !(await hasUncommittedChanges(ctx.env, workspace))) return;
  throw new CiloError("E_WORKSPACE_DIRTY", `The workspace ${workspace} has uncommitted changes; run cilo doctor --fix --force to delete it anyway`, {
    exitCode: ExitCode.usage,
  });
}

/** Removes a Docker resource, whatever its kind. */
export async function removeDockerResource(t: Extract<FindingTarget, { kind: "docker" }>, ctx: CiloContext): Promise<string> {
  const provider = await ctx.provider();
  if (t.resource === "container") await provider.removeContainer(t.id);
  else if (t.resource === "network") await provider.removeNetwork(t.id);
  else await provider.removeVolume(t.id);
  return `removed the ${t.resource}`;
}
