import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CiloError, ExitCode, prerequisiteError } from "./errors.ts";
import { type EngineKind, podmanDefaultHost } from "./engine.ts";

/** The Docker engine cilo talks to, through dockerode and through every compose CLI call. */
export interface DockerEndpoint {
  /** `unix://…`, `tcp://…`, `ssh://…` or `npipe://…`. */
  host: string;
  /** Where it came from: `DOCKER_HOST`, `DOCKER_CONTEXT` (named in `context`), `context <name>` (the current context of the Docker config) or `default`. */
  source: "DOCKER_HOST" | "DOCKER_CONTEXT" | `context ${string}` | "default" | "podman default" | `host ${string}`;
  context?: string;
  /** Folder with ca.pem, cert.pem and key.pem, when the endpoint uses TLS. */
  tlsPath?: string;
  /** Verify the engine's certificate (DOCKER_TLS_VERIFY=1). */
  tlsVerify?: boolean;
  /**
   * Where the engine publishes cilo's gateway and forwards when `host` names it by a host name: the
   * IPv4 address that name resolved to (a host's `resolved`, docs/remote.md). Absent: from `host`.
   */
  publishAddress?: string;
}

export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/** Reads a file as text, or returns undefined when it does not exist. */
export type FileReader = (path: string) => string | undefined;

/**
 * The engine endpoint the Docker CLI would use: `DOCKER_HOST` (with `DOCKER_TLS_VERIFY` and
 * `DOCKER_CERT_PATH`), else the context named by `DOCKER_CONTEXT`, else the `currentContext` of
 * `$DOCKER_CONFIG/config.json` (default `~/.docker`), else the default socket. A context's host
 * is `Endpoints.docker.Host` of `contexts/meta/<sha256 of name>/meta.json`, its TLS material
 * `contexts/tls/<sha256 of name>/docker/` when that holds files. A context that does not exist
 * is a missing prerequisite (exit 3); a malformed host is invalid input (exit 2).
 */
export function resolveDockerEndpoint(env: NodeJS.ProcessEnv, read: FileReader, engine?: EngineKind): DockerEndpoint {
  const fromHost = env["DOCKER_HOST"];
  if (fromHost) {
    const verify = !!env["DOCKER_TLS_VERIFY"] && env["DOCKER_TLS_VERIFY"] !== "0";
    const certPath = env["DOCKER_CERT_PATH"] || (verify ? configDir(env) : undefined);
    return { host: validHost(fromHost, "DOCKER_HOST"), source: "DOCKER_HOST", ...(certPath ? { tlsPath: certPath, tlsVerify: verify } : {}) };
  }
  // Podman chosen by name: its own socket, not a Docker context (those name Docker engines).
  if (engine === "podman") return { host: podmanDefaultHost(env, process.getuid?.() ?? 0), source: "podman default" };
  const dir = configDir(env);
  const fromEnv = env["DOCKER_CONTEXT"];
  if (fromEnv) return fromContext(fromEnv, "DOCKER_CONTEXT", dir, read);
  const current = currentContext(dir, read);
  if (current) return fromContext(current, `context ${current}`, dir, read);
  return { host: DEFAULT_DOCKER_HOST, source: "default" };
}

function configDir(env: NodeJS.ProcessEnv): string {
  return env["DOCKER_CONFIG"] || join(env["HOME"] || homedir(), ".docker");
}

function currentContext(dir: string, read: FileReader): string | undefined {
  const file = join(dir, "config.json");
  const text = read(file);
  if (text === undefined) return undefined;
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    throw new CiloError("E_DOCKER_CONFIG", `Cannot read the Docker config ${file}: it is not valid JSON`, { exitCode: ExitCode.usage });
  }
  const name = (config as { currentContext?: unknown } | null)?.currentContext;
  return typeof name === "string" && name !== "" ? name : undefined;
}

function fromContext(name: string, source: DockerEndpoint["source"], dir: string, read: FileReader): DockerEndpoint {
  const via = source === "DOCKER_CONTEXT" ? "DOCKER_CONTEXT" : `the current context in ${join(dir, "config.json")}`;
  if (name === "default") return { host: DEFAULT_DOCKER_HOST, source, context: name };
  if (/[\0-\x1f\x7f]/.test(name)) {
    throw new CiloError("E_DOCKER_CONTEXT", `The Docker context name from ${via} has control characters`, { exitCode: ExitCode.usage });
  }
  const id = createHash("sha256").update(name).digest("hex");
  const metaFile = join(dir, "contexts", "meta", id, "meta.json");
  const text = read(metaFile);
  if (text === undefined) {
    throw prerequisiteError(
      "E_DOCKER_CONTEXT",
      `The Docker context "${name}" (from ${via}) does not exist`,
      `See docker context ls; pick another with docker context use, or set DOCKER_HOST`,
    );
  }
  let docker: { Host?: unknown; SkipTLSVerify?: unknown } | undefined;
  try {
    docker = (JSON.parse(text) as { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } } | null)?.Endpoints?.docker;
  } catch {
    docker = undefined;
  }
  const host = docker?.Host;
  if (typeof host !== "string" || host === "") {
    throw new CiloError("E_DOCKER_CONTEXT", `The Docker context "${name}" has no docker endpoint host in ${metaFile}`, { exitCode: ExitCode.usage });
  }
  const tlsPath = join(dir, "contexts", "tls", id, "docker");
  const hasTls = ["ca.pem", "cert.pem", "key.pem"].some((f) => read(join(tlsPath, f)) !== undefined);
  return {
    host: validHost(host, `Docker context "${name}"`),
    source,
    context: name,
    ...(hasTls ? { tlsPath, tlsVerify: docker?.SkipTLSVerify !== true } : {}),
  };
}

/** One line, scheme unix/tcp/ssh/npipe, and something after the scheme. */
function validHost(host: string, from: string): string {
  if (/[\0-\x1f\x7f]/.test(host)) {
    throw new CiloError("E_DOCKER_HOST", `The Docker host from ${from} has control characters`, { exitCode: ExitCode.usage });
  }
  const m = /^(unix|tcp|ssh|npipe):\/\/(.*)$/.exec(host);
  if (!m || (m[1] !== "unix" && m[1] !== "npipe" && m[2] === "")) {
    throw new CiloError("E_DOCKER_HOST", `The Docker host "${host}" from ${from} is not a unix://, tcp://, ssh:// or npipe:// address`, {
      exitCode: ExitCode.usage,
    });
  }
  return host;
}

/**
 * A state file's first line when it is the home line of the form the store writes (ends with
 * `"index":{`), read without the rest (64 KiB at most); else the whole file, as readTextFile. For
 * the engine choice, which needs the home part only (10,000 envs make the rest 1.2 MB).
 */
export function readStateHead(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
  try {
    const buf = Buffer.allocUnsafe(65536);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const nl = buf.indexOf(10);
    if (nl >= 0 && nl < n) {
      const line = buf.toString("utf8", 0, nl);
      if (line.endsWith('"index":{')) return `${line}\n`;
    }
  } finally {
    closeSync(fd);
  }
  return readTextFile(path);
}

/** Reads a file as text; undefined when it is missing. */
export function readTextFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
}

/**
 * The environment for a docker or compose process bound to `endpoint`: `DOCKER_HOST` (and the
 * TLS variables when it uses TLS) set, `DOCKER_CONTEXT` removed, so it cannot pick another engine.
 */
export function dockerProcessEnv(base: NodeJS.ProcessEnv, endpoint: DockerEndpoint): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, DOCKER_HOST: endpoint.host };
  delete env["DOCKER_CONTEXT"];
  delete env["DOCKER_TLS_VERIFY"];
  delete env["DOCKER_CERT_PATH"];
  if (endpoint.tlsPath) {
    // docker-compose 1.x (python requests) lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE replace the
    // CA of DOCKER_CERT_PATH: with them set (many systems set them), compose refuses the engine's
    // certificate that cilo's own engine calls accept. The endpoint's CA decides for both.
    delete env["REQUESTS_CA_BUNDLE"];
    delete env["CURL_CA_BUNDLE"];
    env["DOCKER_CERT_PATH"] = endpoint.tlsPath;
    if (endpoint.tlsVerify) env["DOCKER_TLS_VERIFY"] = "1";
  }
  return env;
}

/** dockerode's connection options for `endpoint` (every key set, so dockerode's own reading of DOCKER_HOST cannot mix in). */
export function dockerodeOptions(endpoint: DockerEndpoint, env: NodeJS.ProcessEnv, read: (path: string) => Buffer = readFileSync): Record<string, unknown> {
  const none = { socketPath: undefined, host: undefined, port: undefined, protocol: undefined, ca: undefined, cert: undefined, key: undefined };
  const m = /^(unix|tcp|ssh|npipe):\/\/(.*)$/.exec(endpoint.host)!;
  const scheme = m[1]!;
  if (scheme === "unix") return { ...none, socketPath: m[2] || "/var/run/docker.sock" };
  if (scheme === "npipe") return { ...none, socketPath: m[2] || "//./pipe/docker_engine" };
  const url = new URL(endpoint.host);
  if (scheme === "ssh") {
    return {
      ...none,
      protocol: "ssh",
      host: url.hostname,
      port: url.port || "22",
      username: decodeURIComponent(url.username),
      sshOptions: { agent: env["SSH_AUTH_SOCK"] },
    };
  }
  const tls = endpoint.tlsPath
    ? { ca: read(join(endpoint.tlsPath, "ca.pem")), cert: read(join(endpoint.tlsPath, "cert.pem")), key: read(join(endpoint.tlsPath, "key.pem")) }
    : {};
  const secure = !!endpoint.tlsPath || url.port === "2376";
  return { ...none, ...tls, protocol: secure ? "https" : "http", host: url.hostname, port: url.port || (secure ? "2376" : "2375") };
}

/** `unix:///var/run/docker.sock (default)`, `tcp://10.0.0.2:2375 (DOCKER_CONTEXT cilo-e2)`. */
export function describeEndpoint(endpoint: DockerEndpoint): string {
  const from =
    endpoint.source === "DOCKER_CONTEXT"
      ? `DOCKER_CONTEXT ${endpoint.context}`
      : endpoint.source === "default"
        ? "default socket"
        : endpoint.source === "podman default"
          ? "Podman's default socket"
          : endpoint.source;
  return `${endpoint.host} (${from}${endpoint.tlsPath ? `, TLS ${endpoint.tlsPath}` : ""})`;
}
