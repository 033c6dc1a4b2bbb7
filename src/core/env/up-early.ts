import type { ComposeCli } from "../compose/compose-cli.ts";
import { currentProject } from "../config/current-project.ts";
import type { CiloContext } from "../context/context.ts";
import { heldInput } from "../proc/held-input.ts";
import type { RunResult } from "../proc/run.ts";
import { findEnv } from "../state/find-env.ts";
import type { EnvRecord } from "../state/schema.ts";
import { readState } from "../state/store.ts";
import { cachedApiVersion } from "./engine-api-cache.ts";
import { envComposeStdinTarget } from "./compose-target.ts";
import { envContext } from "./env-context.ts";

/*
 * The first step of `cilo up`, in a module of its own so that it loads without the rest of up
 * (`up-env.ts` and the ~60 modules under it: ~30 ms of compiling and running before compose could
 * start). compose v1 spends 0.2–0.6 s of Python loading itself before it reads its file: started
 * here, it does that while the rest of cilo loads and does its own work (docs/performance.md,
 * "cilo up").
 */

/** What `cilo up` asks of compose; the early compose is started with exactly these. */
export interface UpComposeOptions {
  ref: string;
  project?: string;
  build?: boolean;
  recreate?: boolean;
  onOutput?: (chunk: string) => void;
  signal?: AbortSignal;
}

/** `compose up` started before its file exists, reading it on stdin (`-f -`). */
export interface EarlyCompose {
  /** The env it was started for (its compose project and workspace). */
  rec: EnvRecord;
  /** The compose CLI and arguments it runs with. */
  cli: ComposeCli;
  args: readonly string[];
  /** The API version it was given (COMPOSE_API_VERSION). */
  apiVersion: string | undefined;
  /** Hands compose the rendered file; its result. */
  feed(yaml: string): Promise<RunResult>;
  /** Kills it if it has not been fed (a no-op after `feed`). */
  cancel(): void;
}

/** The arguments of `compose up` for these options. */
export function upComposeArgs(opts: Pick<UpComposeOptions, "build" | "recreate">): string[] {
  const args = ["up", "-d", "--remove-orphans"];
  if (opts.build) args.push("--build");
  if (opts.recreate) args.push("--force-recreate");
  return args;
}

/**
 * The API version compose v1 can be started with before cilo's own ping answers: the user's
 * COMPOSE_API_VERSION, else the one this engine answered last time (engine-api-cache.ts). Without
 * one, compose v1 asks the engine's /version itself (0.5–1 s on Podman, a few ssh sessions on a
 * host), so it is not started early. compose v2 is never started early.
 */
export function knownApiVersion(ctx: CiloContext, cli: ComposeCli | undefined): string | undefined {
  return cli?.flavor === "v1" ? (ctx.env["COMPOSE_API_VERSION"] ?? cachedApiVersion(ctx, ctx.endpoint().host)) : undefined;
}

/**
 * Starts `compose up` on stdin. Until it is fed it has only loaded itself: compose v1 reads its
 * file before it makes its engine client, so a cancelled one (killed) or one whose cilo died (it
 * reads an empty file and fails) has touched nothing.
 */
export function startEarlyCompose(
  ctx: CiloContext,
  cli: ComposeCli,
  rec: EnvRecord,
  args: readonly string[],
  opts: Pick<UpComposeOptions, "onOutput" | "signal">,
  apiVersion?: string,
): EarlyCompose {
  const held = heldInput<string>();
  const result = ctx.runCompose(cli, envComposeStdinTarget(rec), [...args], {
    input: held.input,
    ...(apiVersion !== undefined ? { env: { ...(ctx.env as NodeJS.ProcessEnv), COMPOSE_API_VERSION: apiVersion } } : {}),
    ...(opts.onOutput ? { onOutput: (c: string) => opts.onOutput!(c) } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return {
    rec,
    cli,
    args,
    apiVersion,
    feed(yaml) {
      held.give(yaml);
      return result;
    },
    cancel() {
      held.refuse("up stopped before compose");
    },
  };
}

/**
 * For a front end that has not loaded up yet (the CLI): the env named by `opts` looked up and its
 * `compose up` started early, on its engine (a host's too: nothing is sent to the host until it is
 * fed), or undefined when it cannot be (no such env, compose v2, no known API version, any
 * error). Everything is checked again by `upEnv`, which takes it (`UpEnvOptions.early`), feeds it
 * only if it was started for the env and arguments it ends up with, and cancels it otherwise.
 */
export async function startUpCompose(local: CiloContext, opts: UpComposeOptions): Promise<EarlyCompose | undefined> {
  try {
    const project = await currentProject(opts.project, local.cwd);
    const target = findEnv(readState(local), opts.ref, project);
    return await startComposeOn(envContext(local, target), target, opts);
  } catch {
    return undefined; // upEnv reports it, in its order (an unknown env, an unreachable host …)
  }
}

/**
 * `compose up` for `rec` started early on the engine of `ctx` (the env's), when its compose CLI
 * answers, is v1 and an API version is known (`knownApiVersion`); else undefined, and the caller
 * reports a compose CLI that does not answer in its own order.
 */
export async function startComposeOn(ctx: CiloContext, rec: EnvRecord, opts: UpComposeOptions): Promise<EarlyCompose | undefined> {
  const cli = await ctx.compose().catch(() => undefined);
  const api = knownApiVersion(ctx, cli);
  return cli && api !== undefined ? startEarlyCompose(ctx, cli, rec, upComposeArgs(opts), opts, api) : undefined;
}
