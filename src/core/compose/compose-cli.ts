import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_DOCKER_HOST, type DockerEndpoint, dockerProcessEnv } from "../docker-endpoint.ts";
import { CiloError, ExitCode, prerequisiteError } from "../errors.ts";
import { PODMAN_RLIMIT_HINT, PODMAN_RLIMIT_PATTERN } from "../engine.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { run, type RunOptions, type RunResult } from "../proc/run.ts";
import { which } from "../proc/which.ts";
import { timing } from "../timeline.ts";

/** The compose CLI cilo drives: `docker compose` (v2 plugin), `docker-compose` (v1) or `podman compose`. */
export interface ComposeCli {
  command: string[];
  version: string;
  flavor: "v2" | "v1" | "podman";
}

const CANDIDATES: { command: string[]; flavor: ComposeCli["flavor"] }[] = [
  { command: ["docker", "compose"], flavor: "v2" },
  { command: ["docker-compose"], flavor: "v1" },
  { command: ["podman", "compose"], flavor: "podman" },
];

/**
 * Finds the compose CLI: `CILO_COMPOSE` if set, else the first of docker compose, docker-compose,
 * podman compose that answers `version`. The answer is cached in `$CILO_HOME/compose-cli.json`
 * and reused while the program file is unchanged (asking docker-compose costs about a second).
 */
export async function detectCompose(at: { home: string; env: NodeJS.ProcessEnv; endpoint: () => DockerEndpoint }): Promise<ComposeCli> {
  const { home, env } = at;
  const override = env["CILO_COMPOSE"]?.trim();
  const candidates = override ? [{ command: override.split(/\s+/), flavor: flavorOf(override.split(/\s+/)) }] : CANDIDATES;
  const cacheFile = join(home, "compose-cli.json");
  const cached = readCache(cacheFile, override ?? "", env);
  if (cached) return cached;
  const tried: string[] = [];
  for (const c of candidates) {
    const bin = which(c.command[0]!, env);
    if (!bin) {
      tried.push(c.command.join(" "));
      continue;
    }
    const r = await run(bin, [...c.command.slice(1), "version", "--short"], { env: detectionEnv(env, at.endpoint) });
    const version = r.stdout.trim().split("\n").pop()?.replace(/^v/, "") ?? "";
    if (r.code === 0 && /^\d+\.\d+/.test(version)) {
      const cli: ComposeCli = { command: [bin, ...c.command.slice(1)], version, flavor: c.flavor };
      writeCache(cacheFile, override ?? "", bin, cli, env);
      return cli;
    }
    tried.push(c.command.join(" "));
  }
  if (override) {
    throw prerequisiteError("E_COMPOSE_MISSING", `The compose CLI "${override}" from CILO_COMPOSE does not answer "version"`, "Fix or unset CILO_COMPOSE");
  }
  throw prerequisiteError(
    "E_COMPOSE_MISSING",
    `No compose CLI found (tried ${tried.join(", ")})`,
    "Install the Docker Compose plugin or docker-compose (Debian: apt-get install docker-compose), or set CILO_COMPOSE",
  );
}

/**
 * `version` needs no engine, but `docker compose` fails on a Docker context it cannot load and would
 * be cached as missing: bound to the endpoint, or to the default socket when that does not resolve.
 */
function detectionEnv(env: NodeJS.ProcessEnv, endpoint: () => DockerEndpoint): NodeJS.ProcessEnv {
  try {
    return composeEnv(env, endpoint());
  } catch {
    return dockerProcessEnv(env, { host: DEFAULT_DOCKER_HOST, source: "default" });
  }
}

function flavorOf(cmd: string[]): ComposeCli["flavor"] {
  if (cmd[0]?.endsWith("podman")) return "podman";
  if (cmd[0]?.endsWith("docker-compose")) return "v1";
  return "v2";
}

/** Whether the CLI reads a compose file from stdin (`-f -`) before it talks to the engine (compose v1 and v2). */
export function readsFileFromStdin(cli: ComposeCli): boolean {
  return cli.flavor === "v1" || cli.flavor === "v2";
}

/** Version as numbers, for feature checks (e.g. `!reset` needs v2 ≥ 2.18). */
export function versionAtLeast(cli: ComposeCli, want: string): boolean {
  const a = cli.version.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const b = want.split(".").map((x) => Number(x));
  for (let i = 0; i < b.length; i++) {
    if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > b[i]!;
  }
  return true;
}

interface CacheEntry {
  key: string;
  bin: string;
  mtimeMs: number;
  cli: ComposeCli;
}

function readCache(file: string, key: string, env: NodeJS.ProcessEnv): ComposeCli | undefined {
  try {
    const entry = JSON.parse(readFileSync(file, "utf8")) as CacheEntry;
    if (entry.key !== key) return undefined;
    if (which(entry.cli.command[0]!, env) !== entry.bin) return undefined;
    if (statSync(entry.bin).mtimeMs !== entry.mtimeMs) return undefined;
    return entry.cli;
  } catch {
    return undefined;
  }
}

function writeCache(file: string, key: string, bin: string, cli: ComposeCli, env: NodeJS.ProcessEnv): void {
  try {
    const entry: CacheEntry = { key, bin, mtimeMs: statSync(bin).mtimeMs, cli };
    if (existsSync(join(file, ".."))) writeFileAtomic(file, JSON.stringify(entry), 0o644, env);
  } catch {
    // A cache that cannot be written only costs time.
  }
}

export interface ComposeTarget {
  /** `-p` project name. */
  projectName: string;
  /** `-f` files (absolute or relative to cwd). */
  files: string[];
  cwd: string;
  /** One `--env-file` (compose v1 takes only one). */
  envFile?: string;
  profiles?: string[];
  /** `--project-directory`: with the file on stdin (`-f -`), the folder its relative paths start from. */
  projectDirectory?: string;
}

/**
 * The environment of every compose call: bound to the context's Docker endpoint (the one
 * dockerode uses: DOCKER_HOST set, DOCKER_CONTEXT removed), without the user's COMPOSE_* variables.
 */
export function composeEnv(base: NodeJS.ProcessEnv, endpoint: DockerEndpoint): NodeJS.ProcessEnv {
  const env = dockerProcessEnv(base, endpoint);
  // v1 reads COMPOSE_* variables; keep the user's from leaking into cilo's resolution.
  delete env["COMPOSE_FILE"];
  delete env["COMPOSE_PROJECT_NAME"];
  delete env["COMPOSE_PROFILES"];
  return env;
}

/**
 * docker-compose v1 (docker-py) asks the engine's `/version` which API version to speak unless
 * `COMPOSE_API_VERSION` names it; on Podman that answer takes 0.5–1 s (Podman asks runc and conmon
 * for their versions). cilo knows the API version from its own `/_ping` (`apiVersion`): passed on,
 * it is the version docker-py would have picked, without the round trip. A `COMPOSE_API_VERSION`
 * of the user's is kept; v2 (Go) negotiates through `/_ping` itself and is left alone.
 */
export function withComposeApiVersion(env: NodeJS.ProcessEnv, cli: ComposeCli, apiVersion: string | undefined): NodeJS.ProcessEnv {
  if (cli.flavor === "v2" || env["COMPOSE_API_VERSION"] !== undefined || !apiVersion || !/^1\.\d{1,3}$/.test(apiVersion)) return env;
  return { ...env, COMPOSE_API_VERSION: apiVersion };
}

/**
 * Runs `<compose> -p … -f … <args>`. Core calls compose through `CiloContext.runCompose`, which
 * binds the environment to the Docker endpoint (`composeEnv`) and which a test may replace.
 */
export type ComposeRunner = (cli: ComposeCli, target: ComposeTarget, args: string[], opts?: RunOptions) => Promise<RunResult>;

/** The compose CLI as a child process, with exactly `opts.env` (already bound by `composeEnv`). */
export async function spawnCompose(cli: ComposeCli, target: ComposeTarget, args: string[], opts: RunOptions & { env: NodeJS.ProcessEnv }): Promise<RunResult> {
  const pre: string[] = ["-p", target.projectName];
  for (const f of target.files) pre.push("-f", f);
  if (target.projectDirectory) pre.push("--project-directory", target.projectDirectory);
  if (target.envFile) pre.push("--env-file", target.envFile);
  for (const p of target.profiles ?? []) pre.push("--profile", p);
  const r = run(cli.command[0]!, [...cli.command.slice(1), ...pre, ...args], { ...opts, cwd: target.cwd });
  timing(opts.env, `compose ${args[0]} spawned`);
  return r;
}

export interface ComposeFailureOptions {
  /** Exit code when the engine answered (default 1). */
  exitCode?: number;
  /** The operation, for the message when the engine stopped answering ("up", "down"). */
  during?: string;
}

/**
 * Turns a failed compose call into one clear line (the first meaningful line of its stderr). When
 * the output shows the engine could not be reached (v1 prints a Python traceback then), it is a
 * missing prerequisite: exit 3, "The Docker engine stopped answering during <op>: <reason>".
 */
export function composeFailure(what: string, r: RunResult, opts: ComposeFailureOptions = {}): CiloError {
  const text = r.stderr || r.stdout;
  const lost = engineLostReason(text);
  if (lost) return engineLost(opts.during ?? "a compose call", lost);
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(
      (l) => l.length > 0 && !/^(Creating|Starting|Stopping|Removing|Recreating|Network|Volume|Container|Pulling|Building)\b/.test(l) && !/^WARNING/.test(l),
    );
  const rlimit = lines.find((l) => PODMAN_RLIMIT_PATTERN.test(l));
  const reason = rlimit ?? lines.find((l) => /error|invalid|not|unsupported|must|cannot|failed|unknown|denied/i.test(l)) ?? lines[0] ?? `exit ${r.code}`;
  return new CiloError("E_COMPOSE", `${what}: ${reason.replace(/^ERROR:\s*/, "")}`, {
    exitCode: opts.exitCode ?? ExitCode.failure,
    ...(rlimit ? { hint: PODMAN_RLIMIT_HINT } : {}),
  });
}

/** The engine went away while compose ran (exit 3). */
export function engineLost(during: string, reason: string): CiloError {
  return prerequisiteError(
    "E_DOCKER_LOST",
    `The Docker engine stopped answering during ${during}: ${reason}`,
    `Start the engine again (cilo doctor shows which one cilo uses), then retry`,
  );
}

/**
 * A short reason when compose's output says it lost the engine: docker-py/urllib3 connection errors
 * and tracebacks (v1), "Cannot connect to the Docker daemon" / "error during connect" (v2).
 */
export function engineLostReason(output: string): string | undefined {
  const engineTalk =
    /Error while fetching server API version|Couldn't connect to Docker daemon|Cannot connect to the Docker daemon|error during connect|requests\.exceptions\.ConnectionError|urllib3\.exceptions\.|ConnectionRefusedError|RemoteDisconnected|Connection aborted/i;
  if (!engineTalk.test(output)) return undefined;
  if (/Connection refused|ConnectionRefusedError/i.test(output)) return "connection refused";
  if (/FileNotFoundError|No such file or directory/i.test(output)) return "its socket is gone";
  if (/RemoteDisconnected|Connection aborted|Connection reset|ConnectionResetError|BrokenPipe/i.test(output)) return "the connection was dropped";
  if (/timed out|ReadTimeout/i.test(output)) return "timed out";
  return "cannot connect";
}
