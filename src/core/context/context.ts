import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { ComposeCli, ComposeRunner } from "../compose/compose-cli.ts";
import { readStateHead, readTextFile, resolveDockerEndpoint, type DockerEndpoint } from "../docker-endpoint.ts";
import type { RuntimeProvider } from "../runtime/provider.ts";
import { configuredEngine, type EngineChoice } from "../engine.ts";

/** The environment variables cilo sees: read once at the boundary, never from `process.env` inside core. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Time, for code that records or waits for it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Lines for the user besides a command's result (stderr: `cilo: warning: ...`). */
export interface Logger {
  warn(message: string): void;
}

/**
 * Everything a core operation may take from its surroundings, built once at the boundary
 * (`src/main.ts` for the CLI, the reaper and the shared-service collector) and passed in as the
 * first parameter: the home, the environment and working folder of the command, the container
 * runtime, the compose CLI and how it is run, the Docker endpoint, a clock and a logger. Core
 * reads no `process.env`, `process.cwd()` or global home; a test builds one over a temporary home
 * with a fake provider and compose runner (test/helpers/context.ts).
 */
export interface CiloContext {
  /** `$CILO_HOME`, resolved to an absolute path (default `~/.cilo`). */
  readonly home: string;
  readonly env: Environment;
  /** The command's working folder (the default project folder). */
  readonly cwd: string;
  /** The container runtime, created on first use and then kept. */
  provider(): Promise<RuntimeProvider>;
  /** The compose CLI, detected on first use (and cached across processes in the home). */
  compose(): Promise<ComposeCli>;
  /** Runs `<compose> -p … -f … <args>` bound to `endpoint()`: every compose call of core goes through here. */
  readonly runCompose: ComposeRunner;
  /** The Docker engine endpoint (DOCKER_HOST, else the Docker context), resolved on first use; throws for a bad one. */
  endpoint(): DockerEndpoint;
  /**
   * This context bound to another Docker endpoint (a host's, docs/remote.md): same home,
   * environment, clock and logger; its own provider, compose runner and `endpoint()`.
   */
  forEndpoint(endpoint: DockerEndpoint): CiloContext;
  /**
   * A host name's IPv4 address from the system resolver (`getaddrinfo`, as the Docker CLI and
   * compose resolve the engine's name): a `tcp://` host given by name (docs/remote.md). Rejects
   * with the resolver's error when it has none.
   */
  lookupIPv4(name: string): Promise<string>;
  readonly clock: Clock;
  readonly log: Logger;
}

/** `$CILO_HOME`, default `~/.cilo`. */
export function homeFrom(env: Environment): string {
  const fromEnv = env["CILO_HOME"];
  return fromEnv && fromEnv.length > 0 ? resolve(fromEnv) : join(homedir(), ".cilo");
}

export interface ContextOptions {
  env: Environment;
  cwd: string;
  /**
   * Makes the container runtime for an endpoint (src/main.ts): the engine named by `CILO_ENGINE` or
   * `cilo init --engine` when `engine` is set, else the one the endpoint's `/version` names.
   */
  createProvider: (endpoint: DockerEndpoint, env: Environment, engine?: EngineChoice) => Promise<RuntimeProvider>;
  /** Default: from `env.CILO_HOME`. */
  home?: string;
  /** Default: `detectCompose` over the home and environment. */
  detectCompose?: () => Promise<ComposeCli>;
  /** Default: the compose CLI as a child process, bound to the endpoint. */
  runCompose?: ComposeRunner;
  /** Default: resolved from `env` and the Docker config files. */
  endpoint?: DockerEndpoint;
  clock?: Clock;
  log?: Logger;
  /** Default: the system resolver (`dns.lookup`, IPv4). */
  lookupIPv4?: (name: string) => Promise<string>;
}

/** `dns.lookup` for one IPv4 address; `node:dns` loaded only when a name is looked up. */
async function systemLookupIPv4(name: string): Promise<string> {
  const { lookup } = await import("node:dns/promises");
  return (await lookup(name, { family: 4 })).address;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** Warnings a user must see even in scripts, on stderr as `cilo: warning: ...`. */
export const stderrLogger: Logger = {
  warn: (s) => {
    process.stderr.write(`cilo: warning: ${s}\n`);
  },
};

/**
 * The compose CLI module, loaded on first use: it brings `node:child_process`, which commands that
 * only read state (`list`, `path`) never need and which costs them start-up time.
 */
function composeCli(): Promise<typeof import("../compose/compose-cli.ts")> {
  return import("../compose/compose-cli.ts");
}

/** Builds a context; provider, compose CLI and endpoint are resolved lazily, once. */
export function createContext(opts: ContextOptions): CiloContext {
  const env = opts.env;
  const home = opts.home ?? homeFrom(env);
  let endpoint = opts.endpoint;
  let engine: { choice: EngineChoice | undefined } | undefined;
  const engineChoice = (): EngineChoice | undefined => {
    engine ??= { choice: configuredEngine(home, env, readStateHead) };
    return engine.choice;
  };
  let provider: Promise<RuntimeProvider> | undefined;
  let compose: Promise<ComposeCli> | undefined;
  const ctx: CiloContext = {
    home,
    env,
    cwd: opts.cwd,
    endpoint() {
      endpoint ??= resolveDockerEndpoint(env, readTextFile, engineChoice()?.engine);
      return endpoint;
    },
    provider() {
      if (!provider) {
        provider = (async () => opts.createProvider(ctx.endpoint(), env, engineChoice()))();
        provider.catch(() => {
          provider = undefined;
        });
      }
      return provider;
    },
    compose() {
      if (!compose) {
        compose = opts.detectCompose ? opts.detectCompose() : composeCli().then((m) => m.detectCompose({ home, env, endpoint: () => ctx.endpoint() }));
        compose.catch(() => {
          compose = undefined;
        });
      }
      return compose;
    },
    runCompose:
      opts.runCompose ??
      (async (cli, target, args, runOpts = {}) => {
        const { spawnCompose, composeEnv, withComposeApiVersion } = await composeCli();
        // The API version this command's ping learned, if it pinged: compose v1 need not ask /version.
        // Not waited for when the caller names one (up's early compose, started while the engine is
        // still being asked).
        const given = runOpts.env ?? env;
        const pinged = provider && given["COMPOSE_API_VERSION"] === undefined ? (await provider.catch(() => undefined))?.lastPing?.() : undefined;
        const bound = withComposeApiVersion(composeEnv(given, ctx.endpoint()), cli, pinged?.apiVersion);
        return spawnCompose(cli, target, args, { ...runOpts, env: bound });
      }),
    forEndpoint(other) {
      const { runCompose, ...rest } = opts;
      // A runner given by the caller (tests' fake) stays; the default one binds to `other`.
      return createContext({ ...rest, home, endpoint: other, ...(runCompose ? { runCompose } : {}) });
    },
    lookupIPv4: opts.lookupIPv4 ?? systemLookupIPv4,
    clock: opts.clock ?? systemClock,
    log: opts.log ?? stderrLogger,
  };
  return ctx;
}
