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
import { readState } from "../state/store.ts";
import { touchEnv } from "./touch-env.ts";
import { lastLines } from "../runtime/last-log-lines.ts";
import { createEnv } from "./create-env.ts";
import { currentProject, isProjectFolder } from "../config/current-project.ts";
import { findOrNameEnv, lookupEnv } from "../state/find-env.ts";
import { upEnv } from "./up-env.ts";
import { baseUrl, localGateway } from "./urls.ts";
import { forwardEnvironment, forwardVariable } from "../forward/ports.ts";
import { databaseEnvironment } from "../shared/per-env-db.ts";
import { hostCaEnvironment } from "../gateway/ca-env.ts";
import type { RunResult } from "./views.ts";
import { reachEnv } from "./env-context.ts";

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
  /**
   * Where the command's output goes: the terminal (default), stderr only (`cilo run --json`, so
   * that stdout holds the result), or captured into the result (the library).
   */
  output?: "inherit" | "stderr" | "capture";
  /** Stops the command (SIGTERM) when aborted. */
  signal?: AbortSignal;
  /**
   * Run it on the env's host over SSH, in the remote workspace (`cilo run --remote`, docs/remote.md),
   * after a push of the local workspace; the env must be on an ssh:// host.
   */
  remote?: boolean;
}

/**
 * `cilo run <command> <env>` (SPEC §6): makes sure the env exists and runs, then runs the command
 * through the shell in the env's workspace with the terminal handed over and `CILO_*` set.
 * Returns the command's exit code (128 + signal number when a signal ended it).
 */
export async function runInEnv(ctx: CiloContext, opts: RunInEnvOptions): Promise<number> {
  return (await runInEnvResult(ctx, opts)).exit_code;
}

/** `runInEnv` with the run's details: the env, the exit code, the duration and, when captured, the output. */
export async function runInEnvResult(ctx: CiloContext, opts: RunInEnvOptions): Promise<RunResult> {
  const { rec, cwd, env } = await prepareRun(ctx, opts);
  const started = ctx.clock.now();
  const argv = opts.remote ? await remoteArgv(ctx, rec, opts) : [defaultShell(ctx.env), "-c", opts.command];
  const r = await runCommand(argv, opts.remote ? ctx.cwd : cwd, opts.remote ? { ...ctx.env } : env, opts.output ?? "inherit", opts.signal);
  return {
    schema_version: 1,
    project: rec.project,
    name: rec.name,
    workspace: rec.workspace,
    command: opts.command,
    exit_code: r.code,
    duration_ms: Math.max(0, Math.round(ctx.clock.now() - started)),
    ...(r.stdout !== undefined ? { stdout: r.stdout, stderr: r.stderr ?? "" } : {}),
  };
}
export interface CapturedRun {
  exit_code: number;
  /** The last lines (at most `tailLines`) the command wrote on each stream. */
  stdout_tail: string;
  stderr_tail: string;
  duration_ms: number;
  timed_out: boolean;
}

/**
 * MCP `env_run`: as {@link runInEnv}, but the command's output is captured (its last lines are
 * returned) and its whole process group is killed when `timeoutMs` passes or `signal` aborts.
 */
export async function runInEnvCaptured(
  ctx: CiloContext,
  opts: RunInEnvOptions & { timeoutMs: number; tailLines?: number; signal?: AbortSignal },
): Promise<CapturedRun> {
  const prepared = await prepareRun(ctx, opts);
  return runCaptured(opts.command, prepared.cwd, prepared.env, defaultShell(ctx.env), opts.timeoutMs, opts.tailLines ?? 50, opts.signal);
}

/** Makes sure the env exists and runs (unless told not to); the workspace and environment a command runs with. */
async function prepareRun(ctx: CiloContext, opts: RunInEnvOptions): Promise<{ rec: EnvRecord; cwd: string; env: NodeJS.ProcessEnv }> {
  const progress = opts.onProgress ?? (() => {});
  const state = readState(ctx);
  const from = resolve(opts.from ?? ctx.cwd);
  const here = await projectOf(ctx, opts.project, from, opts.from !== undefined);
  if (opts.create === false && !lookupEnv(state, opts.env, here)) {
    // Nothing will be created, so a name that could mean two new envs is no question to ask.
    throw usageError(`No env "${opts.env}" exists${here ? ` in project "${here}"` : ""}`, "Create it with cilo create, or drop --no-create");
  }
  const target = findOrNameEnv(state, opts.env, here);
  let rec: EnvRecord;
  if ("rec" in target) {
    rec = target.rec;
  } else {
    const { project, env } = target;
    progress(`Creating ${project ? `${project}/` : ""}${env} from ${from}`);
    rec = (await createEnv(ctx, { env, from, ...(project ? { project } : {}), onProgress: progress })).env;
  }
  if (opts.remote) await sshHostOf(ctx, rec); // before anything starts or is touched
  if (opts.up !== false && (await needsUp(await reachEnv(ctx, rec), rec))) {
    progress(`Starting ${envKey(rec.project, rec.name)}`);
    rec = await upEnv(ctx, { ref: qualifiedEnv(rec.project, rec.name), wait: true });
  } else {
    await touchEnv(ctx, envKey(rec.project, rec.name));
  }
  const ca = hostCaEnvironment(ctx.home, state.home_id, ctx.env);
  return {
    rec,
    cwd: rec.workspace,
    env: { ...ctx.env, ...ca, ...ciloEnvironment(rec, state.config, localGateway(ctx.env, ctx.endpoint().host)) },
  };
}

/** The variables cilo gives commands that run for an env: `CILO_ENV`, `CILO_PROJECT`, `CILO_WORKSPACE`, `CILO_BASE_URL`, `CILO_DNS_*`, `CILO_ADDR_*` (TCP forwards), `CILO_DB_*` (per-env databases). */
export function ciloEnvironment(rec: EnvRecord, config: StateConfig, viaGateway = false): Record<string, string> {
  const suffix = rec.dns_suffix ?? config.dns_suffix;
  return {
    CILO_ENV: rec.name,
    CILO_PROJECT: rec.project,
    CILO_WORKSPACE: rec.workspace,
    CILO_BASE_URL: baseUrl(rec.project, rec.name, suffix, config, viaGateway),
    ...ciloDnsEnvironment(config, suffix),
    ...forwardEnvironment(rec),
    // Its per-env databases, at the shared server's address (the service name answers only inside the env).
    ...databaseEnvironment(rec.databases ?? [], (service) => rec.services.find((s) => s.name === service)?.ip),
  };
}

/**
 * The variables of a command `cilo run --remote` runs on the env's host: `CILO_ENV`, `CILO_PROJECT`,
 * `CILO_HOST` (the host's name), `CILO_WORKSPACE` (the remote workspace) and `CILO_ADDR_<SVC>_<PORT>`
 * as the container's address on that host (`<ip>:<port>`: the host reaches its engine's networks).
 * `CILO_BASE_URL` and `CILO_DNS_*` name this machine's DNS server and gateway, which the host does
 * not reach: they are left out.
 */
export function remoteCiloEnvironment(rec: EnvRecord, host: string, remoteWorkspace: string): Record<string, string> {
  const out: Record<string, string> = { CILO_ENV: rec.name, CILO_PROJECT: rec.project, CILO_HOST: host, CILO_WORKSPACE: remoteWorkspace };
  if (rec.status !== "running") return out;
  for (const f of rec.forwards ?? []) {
    const ip = rec.services.find((s) => s.name === f.service)?.ip;
    const name = forwardVariable(f.service, f.port);
    if (ip && !(name in out)) out[name] = `${ip}:${f.port}`;
  }
  return out;
}

/**
 * `ssh … -- <host> '<cd remote workspace && env CILO_…=… sh -c <command>>'` for `cilo run --remote`,
 * after a push of the local workspace (the command sees what is here). The env must be on an
 * ssh:// host: a local env or a tcp:// host is exit 2. A terminal on stdin gets one there (`-t`).
 */
async function remoteArgv(ctx: CiloContext, rec: EnvRecord, opts: RunInEnvOptions): Promise<string[]> {
  const host = await sshHostOf(ctx, rec);
  const { syncWorkspace } = await import("../host/remote-workspace.ts");
  const { remoteRunLine, sshTarget } = await import("../host/remote-paths.ts");
  opts.onProgress?.(`Pushing the workspace to host ${host.name}`);
  await syncWorkspace(ctx, readState(ctx), rec, opts.signal ? { signal: opts.signal } : {});
  const t = sshTarget(host.address);
  const tty = opts.output !== "capture" && process.stdin.isTTY === true;
  return [
    "ssh",
    ...t.options,
    tty ? "-t" : "-T",
    "--",
    t.host,
    remoteRunLine(rec.remote_workspace!, remoteCiloEnvironment(rec, host.name, rec.remote_workspace!), opts.command),
  ];
}

/** The env's host for `--remote`: exit 2 for an env of this machine or a host without SSH. */
async function sshHostOf(ctx: CiloContext, rec: EnvRecord) {
  if (!rec.host || !rec.remote_workspace) {
    throw usageError(`The env ${rec.project}/${rec.name} runs on this machine: --remote runs a command on an env's host`, "Drop --remote");
  }
  const { remoteHost, needsSsh } = await import("../host/remote-workspace.ts");
  const host = remoteHost(ctx, readState(ctx), rec.host);
  if (!host.ssh) throw needsSsh(host, "cilo run --remote");
  return host;
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
 * Runs the command, by default with the terminal handed over. An interactive Ctrl-C reaches the
 * command directly (same process group), so cilo only forwards SIGINT when stdin is not a
 * terminal; SIGTERM and SIGHUP are always forwarded, and an abort of `signal` sends SIGTERM.
 */
function runCommand(
  argv: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  output: "inherit" | "stderr" | "capture",
  signal?: AbortSignal,
): Promise<{ code: number; stdout?: string; stderr?: string }> {
  return new Promise((resolvePromise, reject) => {
    const stdio = output === "capture" ? (["ignore", "pipe", "pipe"] as const) : output === "stderr" ? (["inherit", 2, 2] as const) : "inherit";
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: stdio as "inherit" });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    const onAbort = () => {
      if (child.pid && child.exitCode === null) process.kill(child.pid, "SIGTERM");
    };
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const forward = (sig: NodeJS.Signals) => () => {
      // process.kill rather than child.kill: under Deno the latter makes the exit status the signal's
      // even when the command handles the signal and exits on its own terms.
      if ((sig !== "SIGINT" || !process.stdin.isTTY) && child.pid) process.kill(child.pid, sig);
    };
    // Captured (the library): the caller's process keeps its own signal handling; `signal` stops the command.
    const handlers = output === "capture" ? [] : (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((sig) => [sig, forward(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    const done = () => {
      for (const [sig, h] of handlers) process.off(sig, h);
      signal?.removeEventListener("abort", onAbort);
    };
    child.on("error", (e) => {
      done();
      reject(e);
    });
    child.on("close", (code, sig) => {
      done();
      const exit = code ?? 128 + (sig ? (constants.signals[sig] ?? 0) : 0);
      resolvePromise(
        output === "capture" ? { code: exit, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") } : { code: exit },
      );
    });
  });
}

/** Runs the command in its own process group with its output captured; kills the group at the deadline. */
function runCaptured(
  command: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  shell: string,
  timeoutMs: number,
  tailLines: number,
  signal?: AbortSignal,
): Promise<CapturedRun> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(shell, ["-c", command], { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    // Only the tail is returned: keep a bounded window of each stream.
    const keep = (buf: string, d: string) => (buf + d).slice(-256 * 1024);
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout = keep(stdout, d)));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr = keep(stderr, d)));
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    signal?.addEventListener("abort", kill, { once: true });
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", kill);
      resolvePromise({
        exit_code: code ?? 128 + (sig ? (constants.signals[sig] ?? 0) : 0),
        stdout_tail: lastLines(stdout, tailLines).join("\n"),
        stderr_tail: lastLines(stderr, tailLines).join("\n"),
        duration_ms: Date.now() - started,
        timed_out: timedOut,
      });
    });
  });
}
