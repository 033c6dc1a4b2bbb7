import type { CiloContext } from "../context/context.ts";
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { resolve } from "node:path";
import { which } from "../proc/which.ts";
import { loadProjectConfig, projectName } from "../config/project-config.ts";
import { usageError } from "../errors.ts";
import { LABEL_SERVICE } from "../labels.ts";
import { envContainers } from "../runtime/env-resources.ts";
import { normaliseName, qualifiedEnv } from "../names.ts";
import { envKey, type EnvRecord, type StateConfig } from "../state/schema.ts";
import { readState, withState } from "../state/store.ts";
import { createEnv } from "./create-env.ts";
import { currentProject, isProjectFolder } from "../config/current-project.ts";
import { findOrNameEnv } from "../state/find-env.ts";
import { upEnv } from "./up-env.ts";
import { baseUrl, localGateway } from "./urls.ts";
import { forwardEnvironment } from "../forward/ports.ts";
import { hostCaEnvironment } from "../gateway/ca-env.ts";

export interface RunInEnvOptions {
  /** A shell command line, run with `bash -c` (else `sh -c`) in the env's workspace. */
  command: string;
  /** `<env>` (a branch name such as `feat/login`) or `<project>:<env>` (docs/cli.md). */
  env: string;
  /** Project folder to create the env from when it does not exist (default: the current folder). */
  from?: string;
  project?: string;
  /** Create the env when it does not exist (default true). */
  create?: boolean;
  /** Start the env (and wait for health) when it is not running (default true). */
  up?: boolean;
  onProgress?: (message: string) => void;
}

/**
 * `cilo run <command> <env>` (SPEC §6): makes sure the env exists and runs, then runs the command
 * through the shell in the env's workspace with the terminal handed over and `CILO_*` set.
 * Returns the command's exit code (128 + signal number when a signal ended it).
 */
export async function runInEnv(ctx: CiloContext, opts: RunInEnvOptions): Promise<number> {
  const progress = opts.onProgress ?? (() => {});
  const state = readState(ctx);
  const from = resolve(opts.from ?? ctx.cwd);
  const target = findOrNameEnv(state, opts.env, await projectOf(ctx, opts.project, from, opts.from !== undefined));
  let rec: EnvRecord;
  if ("rec" in target) {
    rec = target.rec;
  } else {
    const { project, env } = target;
    if (opts.create === false) {
      throw usageError(`No env "${opts.env}" exists${project ? ` in project "${project}"` : ""}`, "Create it with cilo create, or drop --no-create");
    }
    progress(`Creating ${project ? `${project}/` : ""}${env} from ${from}`);
    rec = (await createEnv(ctx, { env, from, ...(project ? { project } : {}), onProgress: progress })).env;
  }
  if (opts.up !== false && (await needsUp(ctx, rec))) {
    progress(`Starting ${envKey(rec.project, rec.name)}`);
    rec = await upEnv(ctx, { ref: qualifiedEnv(rec.project, rec.name), wait: true });
  } else {
    await touchEnv(ctx, envKey(rec.project, rec.name));
  }
  const ca = hostCaEnvironment(ctx.home, state.home_id, ctx.env);
  return runInherited(
    opts.command,
    rec.workspace,
    { ...ctx.env, ...ca, ...ciloEnvironment(rec, state.config, localGateway(ctx.env, ctx.endpoint().host)) },
    defaultShell(ctx.env),
  );
}

/** Records that the env was used now, for `cilo gc --older-than` (up records it itself). */
async function touchEnv(ctx: CiloContext, key: string): Promise<void> {
  await withState(ctx, (st) => {
    const cur = st.envs[key];
    if (cur) cur.last_used_at = new Date(ctx.clock.now()).toISOString();
  });
}

/** The variables cilo gives commands that run for an env: `CILO_ENV`, `CILO_PROJECT`, `CILO_WORKSPACE`, `CILO_BASE_URL`, `CILO_DNS_*`, `CILO_ADDR_*` (TCP forwards). */
export function ciloEnvironment(rec: EnvRecord, config: StateConfig, viaGateway = false): Record<string, string> {
  const suffix = rec.dns_suffix ?? config.dns_suffix;
  return {
    CILO_ENV: rec.name,
    CILO_PROJECT: rec.project,
    CILO_WORKSPACE: rec.workspace,
    CILO_BASE_URL: baseUrl(rec.project, rec.name, suffix, config, viaGateway),
    ...ciloDnsEnvironment(config, suffix),
    ...forwardEnvironment(rec),
  };
}

/** `CILO_DNS_SUFFIX`, `CILO_DNS_PORT` and `CILO_DNS_SERVER` (`127.0.0.1:<port>`, for `dig`/resolvers). */
export function ciloDnsEnvironment(config: StateConfig, suffix = config.dns_suffix): Record<string, string> {
  return { CILO_DNS_SUFFIX: suffix, CILO_DNS_PORT: String(config.dns_port), CILO_DNS_SERVER: `127.0.0.1:${config.dns_port}` };
}

/** The shell of host commands: `bash` where present, else `sh` (SPEC §7). */
export function defaultShell(env: NodeJS.ProcessEnv): string {
  return which("bash", env) ? "bash" : "sh";
}

async function projectOf(ctx: CiloContext, explicit: string | undefined, from: string, fromGiven: boolean): Promise<string | undefined> {
  if (explicit) return normaliseName(explicit, "project");
  if (fromGiven && isProjectFolder(from)) return projectName(from, (await loadProjectConfig(from, ctx.log)).config);
  return currentProject(undefined, ctx.cwd);
}

/** Whether the env must be started: not recorded as running, or a service without a live container (one-shots that exited 0 count as live). */
async function needsUp(ctx: CiloContext, rec: EnvRecord): Promise<boolean> {
  if (rec.status !== "running") return true;
  const containers = await envContainers(await ctx.provider(), rec, readState(ctx).home_id);
  return rec.services.some((s) => {
    const mine = containers.filter((c) => c.labels[LABEL_SERVICE] === s.name);
    return mine.length === 0 || mine.some((c) => c.state !== "running" && !(c.state === "exited" && c.exitCode === 0));
  });
}

/**
 * Runs the command with the terminal handed over. An interactive Ctrl-C reaches the command
 * directly (same process group), so cilo only forwards SIGINT when stdin is not a terminal;
 * SIGTERM and SIGHUP are always forwarded.
 */
function runInherited(command: string, cwd: string, env: NodeJS.ProcessEnv, shell: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(shell, ["-c", command], { cwd, env, stdio: "inherit" });
    const forward = (sig: NodeJS.Signals) => () => {
      // process.kill rather than child.kill: under Deno the latter makes the exit status the signal's
      // even when the command handles the signal and exits on its own terms.
      if ((sig !== "SIGINT" || !process.stdin.isTTY) && child.pid) process.kill(child.pid, sig);
    };
    const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((sig) => [sig, forward(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    const done = () => {
      for (const [sig, h] of handlers) process.off(sig, h);
    };
    child.on("error", (e) => {
      done();
      reject(e);
    });
    child.on("exit", (code, signal) => {
      done();
      resolvePromise(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}
