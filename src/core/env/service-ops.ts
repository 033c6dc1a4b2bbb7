import type { CiloContext } from "../context/context.ts";
import { existsSync } from "node:fs";
import { currentProjectFor } from "../config/current-project.ts";
import { CiloError, usageError } from "../errors.ts";
import type { RunOptions, RunResult } from "../proc/run.ts";
import { findEnv } from "../state/find-env.ts";
import { envKey, type EnvRecord } from "../state/schema.ts";
import { homeRef, readState } from "../state/store.ts";
import { envComposeTarget, renderedComposePath } from "./compose-target.ts";
import { renderEnvCompose } from "./env-compose.ts";
import { touchEnv } from "./touch-env.ts";
import { reachEnv } from "./env-context.ts";

/**
 * `cilo logs`, `cilo exec`, `cilo compose` and the MCP tools `env_logs`, `env_exec`: compose
 * commands on an env's rendered file. The CLI hands the terminal over (`stdio: "inherit"`); MCP
 * captures the output.
 */
export interface EnvRef {
  /** `<env>` or `<project>/<env>`. */
  ref: string;
  project?: string;
}

type Io = Pick<RunOptions, "stdio" | "signal">;

export async function resolveEnv(ctx: CiloContext, env: EnvRef): Promise<EnvRecord> {
  return findEnv(readState(ctx), env.ref, await currentProjectFor(env.ref, env.project, ctx.cwd));
}

function checkService(rec: EnvRecord, service: string): void {
  if (!rec.services.some((s) => s.name === service)) {
    const known = rec.services.map((s) => s.name).join(", ") || "none";
    throw usageError(`The env ${rec.project}/${rec.name} has no service "${service}" (services: ${known})`);
  }
}

/** Runs compose on the env's rendered file (rendering it first if the env was never started) and records the use. */
async function composeOnEnv(local: CiloContext, rec: EnvRecord, args: string[], io: Io): Promise<RunResult> {
  const ctx = await reachEnv(local, rec);
  if (!existsSync(renderedComposePath(rec))) await renderEnvCompose(ctx, rec, homeRef(readState(ctx), ctx.home));
  await touchEnv(ctx, envKey(rec.project, rec.name));
  return ctx.runCompose(await ctx.compose(), envComposeTarget(rec), args, io);
}

export interface EnvLogsOptions extends EnvRef, Io {
  service?: string;
  follow?: boolean;
  /** A number of lines or "all". */
  tail?: string | number;
  /** Only lines written at or after this time (ISO time); read from compose's `-t` timestamps, so compose v1 has it too. */
  since?: string;
}

export async function envLogs(ctx: CiloContext, opts: EnvLogsOptions): Promise<RunResult> {
  const rec = await resolveEnv(ctx, opts);
  if (opts.service) checkService(rec, opts.service);
  if (opts.tail !== undefined && !/^(\d+|all)$/.test(String(opts.tail))) throw usageError(`--tail "${opts.tail}" must be a number or "all"`);
  const since = opts.since === undefined ? undefined : Date.parse(opts.since);
  if (since !== undefined && Number.isNaN(since)) throw usageError(`since "${opts.since}" is not an ISO time such as 2026-01-01T10:00:00Z`);
  const args = ["logs", "--no-color"];
  if (opts.follow) args.push("-f");
  if (since !== undefined) args.push("-t");
  if (opts.tail !== undefined) args.push("--tail", String(opts.tail));
  if (opts.service) args.push(opts.service);
  const r = await composeOnEnv(ctx, rec, args, opts);
  return since === undefined ? r : { ...r, stdout: linesSince(r.stdout, since) };
}

/** Lines of `compose logs -t` output whose timestamp is at or after `since` (lines without one are kept with the line before). */
function linesSince(text: string, since: number): string {
  let keep = false;
  return text
    .split("\n")
    .filter((line) => {
      const m = /(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)/.exec(line);
      if (m) keep = Date.parse(m[1]!) >= since;
      return keep;
    })
    .join("\n");
}

export interface ExecInEnvOptions extends EnvRef, Io {
  service: string;
  /** The command and its arguments (default: a shell). */
  command: string[];
  user?: string;
  workdir?: string;
  /** Give the command a terminal (compose exec without -T). */
  tty?: boolean;
}

export async function execInEnv(ctx: CiloContext, opts: ExecInEnvOptions): Promise<RunResult> {
  const rec = await resolveEnv(ctx, opts);
  checkService(rec, opts.service);
  const args = ["exec"];
  if (!opts.tty) args.push("-T");
  if (opts.user) args.push("--user", opts.user);
  if (opts.workdir) args.push("--workdir", opts.workdir);
  args.push(opts.service, ...(opts.command.length > 0 ? opts.command : ["sh"]));
  const r = await composeOnEnv(ctx, rec, args, opts);
  if (r.code === 127 && r.stderr && opts.stdio === "inherit") throw new CiloError("E_COMPOSE_MISSING", r.stderr.trim(), { exitCode: 3 });
  return r;
}

export async function composeInEnv(ctx: CiloContext, opts: EnvRef & Io & { args: string[] }): Promise<RunResult> {
  if (opts.args.length === 0) throw usageError("Give the compose arguments after --, e.g. cilo compose my-env -- ps");
  return composeOnEnv(ctx, await resolveEnv(ctx, opts), opts.args, opts);
}
