import { join } from "node:path";
import { CiloError, ExitCode } from "./errors.ts";
import { homePartOfText } from "./known-state-text.ts";

/** The container engines cilo drives, both through the Docker-compatible API (docs/engines.md). */
export type EngineKind = "docker" | "podman";

export const ENGINES: readonly EngineKind[] = ["docker", "podman"];

/** Which engine cilo was told to use, and by whom (`CILO_ENGINE` beats `cilo init --engine`). */
export interface EngineChoice {
  engine: EngineKind;
  source: "CILO_ENGINE" | "cilo init --engine";
}

export function isEngine(value: unknown): value is EngineKind {
  return typeof value === "string" && (ENGINES as readonly string[]).includes(value);
}

/**
 * The engine chosen by `CILO_ENGINE` (a bad value is invalid input, exit 2), else by `cilo init
 * --engine` (`config.engine` of `$CILO_HOME/state.json`, read without the lock: it is written
 * atomically), else undefined: the engine is then detected from its `/version` answer.
 */
export function configuredEngine(
  home: string,
  env: Readonly<Record<string, string | undefined>>,
  read: (path: string) => string | undefined,
): EngineChoice | undefined {
  const fromEnv = env["CILO_ENGINE"]?.trim();
  if (fromEnv) {
    if (!isEngine(fromEnv)) {
      throw new CiloError("E_USAGE", `CILO_ENGINE "${fromEnv}" must be one of ${ENGINES.join(", ")}`, { exitCode: ExitCode.usage });
    }
    return { engine: fromEnv, source: "CILO_ENGINE" };
  }
  let text: string | undefined;
  try {
    text = read(join(home, "state.json"));
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined;
  try {
    // The home line alone when `read` gave only that (readStateHead) or the file is in the line form.
    const doc = homePartOfText(text) ?? JSON.parse(text);
    const engine = (doc as { config?: { engine?: unknown } } | null)?.config?.engine;
    return isEngine(engine) ? { engine, source: "cilo init --engine" } : undefined;
  } catch {
    return undefined; // an unreadable state file is reported by the command that reads it
  }
}

/**
 * Podman's API socket when nothing names one: rootful `/run/podman/podman.sock`, rootless
 * `$XDG_RUNTIME_DIR/podman/podman.sock` (what `systemctl [--user] start podman.socket` listens on).
 */
export function podmanDefaultHost(env: Readonly<Record<string, string | undefined>>, uid: number): string {
  if (uid === 0) return "unix:///run/podman/podman.sock";
  const runtimeDir = env["XDG_RUNTIME_DIR"] || `/run/user/${uid}`;
  return `unix://${runtimeDir}/podman/podman.sock`;
}

/** The engine behind a `/version` answer: Podman names itself in `Components` ("Podman Engine"). */
export function engineOfVersion(answer: unknown): EngineKind {
  const components = (answer as { Components?: unknown } | null)?.Components;
  if (Array.isArray(components) && components.some((c) => /podman/i.test(String((c as { Name?: unknown } | null)?.Name ?? "")))) return "podman";
  return "docker";
}

/**
 * The engine, its version and API version from the headers of a `/_ping` answer, which costs the
 * engine nothing (Podman's `/version` asks runc and conmon for theirs: seconds on a loaded
 * machine). Podman sends `Libpod-Api-Version` and `Server: Libpod/<version> (<os>)`, Docker
 * `Server: Docker/<version> (<os>)`; both send `Api-Version`. Undefined when the headers do not
 * say (then `/version` does). Header names are lower case, as node gives them.
 */
export function engineOfPing(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): { engine: EngineKind; version: string; apiVersion: string } | undefined {
  const one = (name: string) => {
    const v = headers[name];
    return (Array.isArray(v) ? v[0] : v)?.trim() || undefined;
  };
  const apiVersion = one("api-version");
  if (!apiVersion) return undefined;
  const server = /^(Libpod|Docker)\/(\S+)/i.exec(one("server") ?? "");
  const libpod = one("libpod-api-version");
  if (libpod || server?.[1]?.toLowerCase() === "libpod") {
    const version = server?.[1]?.toLowerCase() === "libpod" ? server[2] : libpod;
    return version ? { engine: "podman", version, apiVersion } : undefined;
  }
  return server ? { engine: "docker", version: server[2]!, apiVersion } : undefined;
}

/** How to start Podman's API service for the socket at `host` (one line, for hints). */
export function podmanServiceHint(host: string): string {
  const path = host.replace(/^unix:\/\//, "");
  const rootless = !path.startsWith("/run/podman/");
  const unit = path.endsWith("/podman/podman.sock") ? (rootless ? "systemctl --user start podman.socket, or " : "systemctl start podman.socket, or ") : "";
  return `Start Podman's API service: ${unit}podman system service --time=0 ${host.startsWith("unix://") ? host : `unix://${path}`} &`;
}

/** Podman 4 in containers and some sandboxes: runc cannot set the default ulimits (`error setting rlimit type 7`). */
export const PODMAN_RLIMIT_PATTERN = /error setting rlimits?\b[^\n]*type \d+|setrlimit[^\n]*operation not permitted/i;

export const PODMAN_RLIMIT_HINT =
  "Podman cannot set its default ulimits here: put `[containers]` and `default_ulimits = []` in a containers.conf, point CONTAINERS_CONF at it, and restart podman system service";

/** Podman runs healthchecks from systemd timers: without systemd, health stays `starting`. */
export const PODMAN_HEALTHCHECK_HINT =
  "Podman runs healthchecks from systemd timers; without systemd they never run: run podman healthcheck run <container> on a timer (docs/engines.md)";
