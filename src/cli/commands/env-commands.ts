import type { CiloContext } from "../../core/context/context.ts";
import { existsSync } from "node:fs";
import { CiloError, usageError } from "../../core/errors.ts";
import { envComposeTarget, renderedComposePath, renderEnvCompose } from "../../core/env/env-compose.ts";
import { currentProject } from "../../core/config/current-project.ts";
import { findEnv } from "../../core/state/find-env.ts";
import { envView } from "../../core/env/env-view.ts";
import type { EnvRecord } from "../../core/state/schema.ts";
import { homeRef, readState } from "../../core/state/store.ts";
import { printJson, println } from "../output.ts";

async function resolveEnv(ctx: CiloContext, ref: string, project?: string): Promise<EnvRecord> {
  return findEnv(readState(ctx), ref, await currentProject(project, ctx.cwd));
}

/** The env's rendered compose file, rendering it first if the env was never started. */
async function ensureRendered(ctx: CiloContext, rec: EnvRecord): Promise<void> {
  if (!existsSync(renderedComposePath(rec))) await renderEnvCompose(ctx, rec, homeRef(readState(ctx), ctx.home));
}

function checkService(rec: EnvRecord, service: string): void {
  if (!rec.services.some((s) => s.name === service)) {
    const known = rec.services.map((s) => s.name).join(", ") || "none";
    throw usageError(`The env ${rec.project}/${rec.name} has no service "${service}" (services: ${known})`);
  }
}

/** `cilo path <env>`: the workspace folder; with --json, the env object (its `workspace`). */
export async function path(ctx: CiloContext, ref: string, opts: { project?: string; json?: boolean }): Promise<number> {
  const rec = await resolveEnv(ctx, ref, opts.project);
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
  const rec = await resolveEnv(ctx, ref, opts.project);
  if (service) checkService(rec, service);
  if (opts.tail !== undefined && !/^(\d+|all)$/.test(String(opts.tail))) throw usageError(`--tail "${opts.tail}" must be a number or "all"`);
  await ensureRendered(ctx, rec);
  const args = ["logs", "--no-color"];
  if (opts.follow) args.push("-f");
  if (opts.tail !== undefined) args.push("--tail", String(opts.tail));
  if (service) args.push(service);
  const r = await ctx.runCompose(await ctx.compose(), envComposeTarget(rec), args, { stdio: "inherit" });
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
  const cmd = [...argv, ...(opts["--"] ?? [])];
  const rec = await resolveEnv(ctx, ref, opts.project);
  checkService(rec, service);
  await ensureRendered(ctx, rec);
  const args = ["exec"];
  if (!process.stdin.isTTY) args.push("-T");
  if (opts.user) args.push("--user", opts.user);
  if (opts.workdir) args.push("--workdir", opts.workdir);
  args.push(service, ...(cmd.length > 0 ? cmd : ["sh"]));
  const r = await ctx.runCompose(await ctx.compose(), envComposeTarget(rec), args, { stdio: "inherit" });
  if (r.code === 127 && r.stderr) throw new CiloError("E_COMPOSE_MISSING", r.stderr.trim(), { exitCode: 3 });
  return r.code;
}

/** `cilo compose <env> -- <args...>`: any compose command on the env's rendered file. */
export async function compose(ctx: CiloContext, ref: string, opts: { project?: string; "--"?: string[] }): Promise<number> {
  const rec = await resolveEnv(ctx, ref, opts.project);
  const args = opts["--"] ?? [];
  if (args.length === 0) throw usageError("Give the compose arguments after --, e.g. cilo compose my-env -- ps");
  await ensureRendered(ctx, rec);
  const r = await ctx.runCompose(await ctx.compose(), envComposeTarget(rec), args, { stdio: "inherit" });
  return r.code;
}
