import type { CiloContext } from "../../core/context/context.ts";
import { composeInEnv, envLogs, execInEnv, resolveEnv } from "../../core/env/service-ops.ts";
import { envView } from "../../core/env/env-view.ts";
import { readState } from "../../core/state/store.ts";
import { printJson, println } from "../output.ts";

/** `cilo path <env>`: the workspace folder; with --json, the env object (its `workspace`). */
export async function path(ctx: CiloContext, ref: string, opts: { project?: string; json?: boolean }): Promise<number> {
  const rec = await resolveEnv(ctx, { ref, ...(opts.project ? { project: opts.project } : {}) });
  if (opts.json) printJson(envView(ctx, readState(ctx), rec));
  else println(rec.workspace);
  return 0;
}

/** `cilo logs <env> [service] [-f] [--tail N]` through the compose CLI. */
export async function logs(
  ctx: CiloContext,
  ref: string,
  service: string | undefined,
  opts: { project?: string; follow?: boolean; tail?: string | number },
): Promise<number> {
  const r = await envLogs(ctx, {
    ref,
    ...(opts.project ? { project: opts.project } : {}),
    ...(service ? { service } : {}),
    follow: !!opts.follow,
    ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
    stdio: "inherit",
  });
  return r.code;
}

/** `cilo exec <env> <service> [cmd...]`: with a TTY when stdin is one. */
export async function exec(
  ctx: CiloContext,
  ref: string,
  service: string,
  argv: string[],
  opts: { project?: string; user?: string; workdir?: string; "--"?: string[] },
): Promise<number> {
  const r = await execInEnv(ctx, {
    ref,
    ...(opts.project ? { project: opts.project } : {}),
    service,
    command: [...argv, ...(opts["--"] ?? [])],
    ...(opts.user ? { user: opts.user } : {}),
    ...(opts.workdir ? { workdir: opts.workdir } : {}),
    tty: !!process.stdin.isTTY,
    stdio: "inherit",
  });
  return r.code;
}

/** `cilo compose <env> -- <args...>`: any compose command on the env's rendered file. */
export async function compose(ctx: CiloContext, ref: string, opts: { project?: string; "--"?: string[] }): Promise<number> {
  const r = await composeInEnv(ctx, { ref, ...(opts.project ? { project: opts.project } : {}), args: opts["--"] ?? [], stdio: "inherit" });
  return r.code;
}
