import { qualifiedEnv } from "../core/names.ts";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { durationMs, parseTtl } from "../core/duration.ts";
import { createEnv } from "../core/env/create-env.ts";
import { destroyEnv } from "../core/env/destroy-env.ts";
import { envAddresses } from "../core/env/env-addresses.ts";
import { envDiff } from "../core/env/env-diff.ts";
import { envStatus } from "../core/env/env-view.ts";
import { envViews } from "../core/env/env-view.ts";
import { runInEnvCaptured } from "../core/env/run-in-env.ts";
import { envLogs, execInEnv } from "../core/env/service-ops.ts";
import { syncEnv } from "../core/env/sync-env.ts";
import { upEnv } from "../core/env/up-env.ts";
import { usageError } from "../core/errors.ts";
import { lastLines } from "../core/runtime/last-log-lines.ts";
import { envKey, type EnvRecord } from "../core/state/schema.ts";
import { readState } from "../core/state/store.ts";
import type { ToolName } from "./schemas.ts";
import type { McpSession } from "./session.ts";
import { runWorkflowForMcp } from "./workflow-run.ts";

/** What a tool call gets besides its arguments. */
export interface CallIo {
  /** Aborted when the client cancels the call or the session ends. */
  signal: AbortSignal;
  /** A progress notification (sent only when the client asked for them with a progress token). */
  progress: (message: string) => void;
}

// biome-ignore lint/suspicious/noExplicitAny: checked against the tool's input schema (schemas.ts) before the tool runs
type Args = Record<string, any>;
type Tool = (session: McpSession, args: Args, io: CallIo) => Promise<Record<string, unknown>>;

const DEFAULT_RUN_TIMEOUT = "10m";
const DEFAULT_TAIL_LINES = 50;
const DEFAULT_LOG_TAIL = 200;

function duration(text: string | undefined, fallback: string, what: string): number {
  const ms = durationMs(text ?? fallback);
  if (ms === undefined) throw usageError(`${what} "${text}" is not a duration such as 30s, 2m or 1h30m`);
  return ms;
}

/** `<project>/<env>` of a record: what every core operation is handed, so that it needs no current project. */
const keyOf = (rec: EnvRecord) => envKey(rec.project, rec.name);
/** How an env is named to a core operation: `project:env` is never ambiguous (docs/cli.md). */
const refOf = (rec: EnvRecord) => qualifiedEnv(rec.project, rec.name);

/**
 * The tools of `cilo mcp`. Each calls the core operation the CLI command of the same name calls
 * (createEnv, upEnv, envStatus, runInEnv, …); the env objects are those of `cilo status --json` /
 * `cilo list --json`.
 */
export const TOOLS: Record<ToolName, Tool> = {
  async env_create(session, a, io) {
    const ttlMs = a.ttl !== undefined ? parseTtl(String(a.ttl), "ttl") : undefined;
    const leased = a.keep !== true;
    const { env: rec, notice } = await createEnv(session.ctx, {
      env: a.name ?? `mcp-${randomBytes(3).toString("hex")}`,
      ...(a.from !== undefined ? { from: String(a.from) } : {}),
      ...(a.git !== undefined ? { git: String(a.git) } : {}),
      ...(a.ref !== undefined ? { ref: String(a.ref) } : {}),
      ...(a.project !== undefined ? { project: String(a.project) } : {}),
      ...(a.clone !== undefined ? { mode: a.clone } : {}),
      ...(a.include?.length ? { include: a.include.map(String) } : {}),
      ...(leased ? { ownerPid: session.leasePid, lease: "mcp" as const } : {}),
      ...(ttlMs !== undefined ? { ttlMs } : {}),
      onProgress: io.progress,
      signal: io.signal,
    });
    session.adopt(rec);
    return {
      env: await envStatus(session.ctx, refOf(rec)),
      lease: leased ? { holder: "mcp", pid: session.leasePid } : null,
      expires_at: rec.expires_at ?? null,
      ...(notice ? { notice } : {}),
    };
  },

  async env_up(session, a, io) {
    const rec = await session.resolve(a.env, a.project);
    const up = await upEnv(session.ctx, {
      ref: refOf(rec),
      wait: a.wait !== false,
      ...(a.timeout !== undefined ? { timeoutMs: duration(a.timeout, "2m", "timeout") } : {}),
      build: a.build === true,
      recreate: a.recreate === true,
      profiles: a.profiles ?? [],
      onOutput: (chunk) => {
        for (const line of chunk.split("\n")) if (line.trim()) io.progress(line.trim());
      },
      signal: io.signal,
    });
    const view = await envStatus(session.ctx, refOf(up));
    return { env: view, ...envAddresses(view, up) };
  },

  async env_status(session, a) {
    const rec = await session.resolve(a.env, a.project);
    return { env: await envStatus(session.ctx, refOf(rec)) };
  },

  async env_list(session, a) {
    const state = readState(session.ctx);
    const project = a.project === undefined ? undefined : String(a.project);
    const envs = envViews(session.ctx, state, project).filter((e) => session.mayTouch(state.envs[envKey(e.project, e.name)]!));
    return { envs };
  },

  async env_run(session, a, io) {
    const rec = await session.resolve(a.env, a.project);
    const result = await runInEnvCaptured(session.ctx, {
      command: String(a.command),
      env: keyOf(rec),
      create: false,
      up: a.up !== false,
      timeoutMs: duration(a.timeout, DEFAULT_RUN_TIMEOUT, "timeout"),
      tailLines: a.tail_lines ?? DEFAULT_TAIL_LINES,
      signal: io.signal,
      onProgress: io.progress,
    });
    return { ...result };
  },

  async env_exec(session, a, io) {
    const rec = await session.resolve(a.env, a.project);
    const timeoutMs = duration(a.timeout, DEFAULT_RUN_TIMEOUT, "timeout");
    const deadline = AbortSignal.timeout(timeoutMs);
    const started = Date.now();
    const r = await execInEnv(session.ctx, {
      ref: refOf(rec),
      service: String(a.service),
      command: (a.command as unknown[]).map(String),
      ...(a.user !== undefined ? { user: String(a.user) } : {}),
      ...(a.workdir !== undefined ? { workdir: String(a.workdir) } : {}),
      stdio: "pipe",
      signal: AbortSignal.any([io.signal, deadline]),
    });
    const tail = a.tail_lines ?? DEFAULT_TAIL_LINES;
    return {
      exit_code: r.code,
      stdout_tail: lastLines(r.stdout, tail).join("\n"),
      stderr_tail: lastLines(r.stderr, tail).join("\n"),
      duration_ms: Date.now() - started,
      timed_out: deadline.aborted,
    };
  },

  async env_logs(session, a, io) {
    const rec = await session.resolve(a.env, a.project);
    const r = await envLogs(session.ctx, {
      ref: refOf(rec),
      ...(a.service !== undefined ? { service: String(a.service) } : {}),
      tail: a.tail ?? DEFAULT_LOG_TAIL,
      ...(a.since !== undefined ? { since: String(a.since) } : {}),
      stdio: "pipe",
      signal: io.signal,
    });
    return { logs: r.stdout, exit_code: r.code };
  },

  async env_diff(session, a) {
    const rec = await session.resolve(a.env, a.project);
    return { ...(await envDiff(session.ctx, { ref: refOf(rec), ...(a.base !== undefined ? { base: String(a.base) } : {}) })) };
  },

  async env_sync(session, a, io) {
    const rec = await session.resolve(a.env, a.project);
    return {
      ...(await syncEnv(session.ctx, {
        ref: refOf(rec),
        ...(a.pull === true ? { pull: true } : {}),
        ...(a.full === true ? { full: true } : {}),
        signal: io.signal,
      })),
    };
  },

  async env_destroy(session, a) {
    const rec = await session.resolve(a.env, a.project);
    const key = keyOf(rec);
    await destroyEnv(session.ctx, { ref: refOf(rec), project: rec.project, discardWork: a.discard_work === true });
    session.forget(key);
    return { destroyed: key };
  },

  async workflow_run(session, a, io) {
    const file = a.file !== undefined ? String(a.file) : join(session.ctx.cwd, `mcp-inline-${randomBytes(3).toString("hex")}.workflow.yaml`);
    return runWorkflowForMcp(session.ctx, {
      file,
      ...(a.yaml !== undefined ? { text: String(a.yaml) } : {}),
      vars: a.vars ?? {},
      keep: a.keep === true,
      signal: io.signal,
      progress: io.progress,
    });
  },
};
