import { syncDnsWithState } from "../../dns/dns.ts";
import { destroyEnv } from "../../env/destroy-env.ts";
import { downEnv } from "../../env/down-env.ts";
import { ensureReaper, forgetReaper } from "../../env/reaper.ts";
import { upEnv } from "../../env/up-env.ts";
import { CiloError } from "../../errors.ts";
import { qualifiedEnv } from "../../names.ts";
import { isProcessAlive } from "../../proc/processes.ts";
import { envKey } from "../../state/schema.ts";
import { readState } from "../../state/store.ts";
import { interruptedOperation } from "../env-facts.ts";
import { recordRuntime } from "../record-runtime.ts";
import { defineFinding, type FixContext } from "./define.ts";
import { composeSettled, refuseDirty } from "./fix-helpers.ts";

/** Envs whose record disagrees with their processes, their folder or Docker. */
export const ENV_FINDINGS = {
  "operation-interrupted": defineFinding({
    severity: "error",
    target: "env",
    phase: 2,
    describe: "an operation marker (or transitional status) whose process is gone",
    fix: (t, ctx) => finishOperation(envKey(t.project, t.env), ctx),
  }),
  "env-owner-gone": defineFinding({
    severity: "error",
    target: "env",
    phase: 3,
    describe: "a throwaway env whose owner process is gone",
    fix: async (t, ctx) => {
      const key = envKey(t.project, t.env);
      const owner = readState(ctx).envs[key]?.owner_pid;
      await destroyEnv(ctx, { ref: qualifiedEnv(t.project, t.env), project: t.project, force: true, discardWork: true }); // a throwaway env, as the reaper would
      if (owner !== undefined) await forgetReaper(ctx, owner);
      return "destroyed it";
    },
  }),
  "env-workspace-missing": defineFinding({
    severity: "error",
    target: "env",
    phase: 3,
    describe: "the env's workspace folder is gone",
    fix: async (t, ctx) => {
      // The folder is gone, but a worktree's branch may still hold commits: kept unless --force.
      await destroyEnv(ctx, { ref: qualifiedEnv(t.project, t.env), project: t.project, force: true, discardWork: ctx.force });
      return "destroyed it";
    },
  }),
  "env-workspace-outside": defineFinding({
    severity: "error",
    target: "env",
    phase: 10,
    describe: "the env's recorded workspace is not its own folder; never fixed automatically",
  }),
  "env-service-missing": defineFinding({
    severity: "error",
    target: "env",
    phase: 4,
    describe: "a running env with a service that has no container",
    fix: startAgain,
  }),
  "env-service-exited": defineFinding({
    severity: "error",
    target: "env",
    phase: 4,
    describe: "a running env with a service whose container stopped",
    fix: startAgain,
  }),
  "env-ip-stale": defineFinding({
    severity: "warning",
    target: "env",
    phase: 4,
    describe: "a running env whose recorded addresses differ from Docker's",
    fix: recordAgain,
  }),
  "env-status-stale": defineFinding({
    severity: "warning",
    target: "env",
    phase: 4,
    describe: "a stopped or created env all of whose services run",
    fix: recordAgain,
  }),
  "reaper-missing": defineFinding({
    severity: "warning",
    target: "env",
    phase: 4,
    describe: "a throwaway env whose owner runs but no reaper watches it",
    fix: async (t, ctx) => {
      const owner = readState(ctx).envs[envKey(t.project, t.env)]?.owner_pid;
      if (owner === undefined) return "it is no longer a throwaway env";
      await ensureReaper(ctx, owner);
      return `started a reaper for process ${owner}`;
    },
  }),
  "env-failed": defineFinding({ severity: "info", target: "env", phase: 10, describe: "the env's last operation failed" }),
};

async function startAgain(t: { project: string; env: string }, ctx: FixContext): Promise<string> {
  await upEnv(ctx, { ref: qualifiedEnv(t.project, t.env), project: t.project });
  return "started it again";
}

async function recordAgain(t: { project: string; env: string }, ctx: FixContext): Promise<string> {
  const rec = await recordRuntime(ctx, envKey(t.project, t.env));
  await syncDnsWithState(ctx, "when-needed");
  return `recorded it as ${rec?.status ?? "gone"} with the addresses Docker reports`;
}

/** Resumes or rolls back what a killed cilo left: see INTERRUPTED_FIX in diagnose.ts. */
async function finishOperation(key: string, ctx: FixContext): Promise<string> {
  const force = ctx.force;
  const rec = readState(ctx).envs[key];
  if (!rec) return "the env is gone already";
  const op = interruptedOperation(rec);
  if (op && isProcessAlive(op.pid, { startedBefore: Date.parse(op.started_at) })) {
    throw new CiloError("E_ENV_BUSY", `${op.kind} is running again (pid ${op.pid}); leaving it alone`);
  }
  await composeSettled(ctx, rec.docker_name);
  switch (op?.kind) {
    case "create":
    case "destroy":
      await refuseDirty(ctx, rec.workspace, force);
      await destroyEnv(ctx, { ref: qualifiedEnv(rec.project, rec.name), project: rec.project, force: true, discardWork: force });
      return op.kind === "create" ? "rolled the create back: removed what it made and the record" : "finished the destroy";
    case "up": {
      const done = await recordRuntime(ctx, key, { status: "failed", error: "cilo up was interrupted before it finished" });
      await syncDnsWithState(ctx, "when-needed");
      return done?.status === "running"
        ? "every service runs: recorded it as running"
        : "recorded it as failed (not every service runs); cilo up starts it again";
    }
    case "down":
      await downEnv(ctx, { ref: qualifiedEnv(rec.project, rec.name), project: rec.project });
      return "finished stopping it";
    default:
      return "nothing was left to do";
  }
}
