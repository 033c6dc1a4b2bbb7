import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { CiloContext } from "../context/context.ts";
import type { DockerEndpoint } from "../docker-endpoint.ts";
import { CiloError, ExitCode, isCiloError, messageOf } from "../errors.ts";
import { hostEndpoint } from "../host-endpoint.ts";
import { contextNameProblem, hostnameProblem, hostNameProblem, parseHostAddress, remoteRootProblem, tcpHostPart } from "../host-address.ts";
import { ipVersion } from "../ip.ts";
import type { HostRecord, HostResolution, State } from "../state/schema.ts";
import { readState, withState } from "../state/store.ts";
import { resolveEngineName } from "./resolve-name.ts";

// `cilo host add | list | rm` (docs/remote.md): the Docker hosts envs may run on, recorded in
// state. `cilo host check` is in check.ts. The CLI (src/cli/commands/host.ts) only parses and prints.

/** What `cilo host list --json` prints per host (schema/cilo.host.schema.json, `#/definitions/host`). */
export interface HostView {
  name: string;
  /** `ssh://…` or `tcp://…` as added; absent for a Docker context. */
  address?: string;
  context?: string;
  /** The engine address cilo uses: the address, or the context's host now; null when the context no longer resolves. */
  endpoint: string | null;
  tls_dir?: string;
  remote_root?: string;
  added_at: string;
  /** Envs recorded on this host. */
  envs: string[];
}

export interface AddHostOptions {
  name: string;
  /** `ssh://user@host[:port]`, `tcp://host:port` or a Docker context name. */
  target: string;
  /** For `tcp://`: a folder with ca.pem, cert.pem and key.pem (relative to `ctx.cwd`). */
  tlsDir?: string;
  /** Record it without asking its engine (default: the engine must answer, else exit 3). */
  check?: boolean;
  /** Where envs' workspaces go on the host (absolute; default `~/.cilo-remote` of the SSH user). */
  remoteRoot?: string;
}

function invalid(message: string, hint?: string): CiloError {
  return new CiloError("E_HOST_INVALID", message, { exitCode: ExitCode.usage, ...(hint ? { hint } : {}) });
}

/** The host `name` of the state, or E_HOST_NOT_FOUND (exit 2) naming the recorded ones. */
export function findHost(state: State, name: string): HostRecord {
  const rec = state.hosts?.[name];
  if (rec && Object.hasOwn(state.hosts!, name)) return rec;
  const known = Object.keys(state.hosts ?? {}).sort();
  throw new CiloError("E_HOST_NOT_FOUND", `No host named "${name}" is recorded`, {
    exitCode: ExitCode.usage,
    hint: known.length ? `Recorded hosts: ${known.join(", ")}` : "Add one with cilo host add <name> ssh://user@host",
  });
}

/** `host r1 (ssh://root@10.0.0.2)`: how messages name a host. */
export function hostLabel(name: string, endpoint: DockerEndpoint | string): string {
  return `host ${name} (${typeof endpoint === "string" ? endpoint : endpoint.host})`;
}

/** The one-line exit-3 error of a host whose `check` failed. */
export function hostUnreachable(name: string, endpoint: DockerEndpoint, check: string, why: string): CiloError {
  return new CiloError("E_HOST_UNREACHABLE", `${hostLabel(name, endpoint)}: ${check} failed: ${why}`, {
    exitCode: ExitCode.prerequisite,
    hint: endpoint.host.startsWith("ssh://")
      ? `Check that ${sshCommandFor(endpoint.host)} docker version works (cilo uses the ssh on PATH: your ~/.ssh/config, agent and known_hosts)`
      : `Check that DOCKER_HOST=${endpoint.host} docker version works${endpoint.tlsPath ? ` (TLS from ${endpoint.tlsPath})` : ""}`,
  });
}

/** `ssh -p 2222 me@box` for `ssh://me@box:2222`. */
function sshCommandFor(host: string): string {
  const url = new URL(host);
  return `ssh ${url.port ? `-p ${url.port} ` : ""}${url.username ? `${decodeURIComponent(url.username)}@` : ""}${url.hostname}`;
}

/** An error's first line; "does not answer (why)" for an engine that does not, without the endpoint it repeats. */
export function reasonOf(e: unknown): string {
  const line = (isCiloError(e) ? e.message : messageOf(e)).split("\n")[0]!;
  const m = isCiloError(e) && e.code === "E_DOCKER_UNAVAILABLE" ? / does not answer \((.*)\)$/.exec(line) : null;
  return m ? `does not answer (${m[1]})` : line;
}

/**
 * Asks the host's engine for its version (`hctx` is bound to `endpoint`): the `engine` check, shared
 * by add and check. When it fails and the engine's name did not resolve (`resolved`,
 * host/resolve-name.ts), the resolver's answer is the reason given.
 */
export async function pingHost(hctx: CiloContext, name: string, endpoint: DockerEndpoint, resolved?: HostResolution) {
  try {
    return await (await hctx.provider()).ping();
  } catch (e) {
    if (isCiloError(e) && e.code === "E_ENGINE_MISMATCH") throw e;
    if (resolved?.error !== undefined)
      throw hostUnreachable(name, endpoint, "name", `${resolved.name} does not resolve to an IPv4 address (${resolved.error})`);
    throw hostUnreachable(name, endpoint, "engine", reasonOf(e));
  }
}

/** Validates what `cilo host add` was given; the record to store. Exit 2 for anything malformed. */
export function hostRecordFrom(ctx: CiloContext, opts: AddHostOptions): HostRecord {
  const problem = hostNameProblem(opts.name);
  if (problem) throw invalid(problem);
  const rec: HostRecord = { added_at: new Date(ctx.clock.now()).toISOString() };
  if (opts.target.includes("://")) {
    const parsed = parseHostAddress(opts.target);
    if ("why" in parsed) throw invalid(parsed.why, "Use ssh://user@host[:port], tcp://host:2376 with --tls-dir, or a Docker context name");
    rec.address = parsed.address;
    const name = parsed.scheme === "tcp" ? tcpHostPart(parsed.address) : undefined;
    const why = name !== undefined && ipVersion(name.replace(/^\[|\]$/g, "")) === 0 ? hostnameProblem(name) : undefined;
    if (why)
      throw invalid(
        `The host address ${parsed.address} is not valid: ${why}`,
        "Give the engine's IPv4 address or its DNS name, e.g. tcp://build1.tailnet.example:2376",
      );
    if (opts.tlsDir !== undefined && parsed.scheme !== "tcp") throw invalid("--tls-dir is for tcp:// hosts only (ssh:// is encrypted by SSH)");
  } else {
    const why = contextNameProblem(opts.target);
    if (why) throw invalid(why, "Use ssh://user@host[:port], tcp://host:2376 with --tls-dir, or a Docker context name (docker context ls)");
    rec.context = opts.target;
    if (opts.tlsDir !== undefined) throw invalid("--tls-dir is for tcp:// hosts; a Docker context keeps its own TLS material");
    try {
      hostEndpoint(ctx, opts.name, rec);
    } catch (e) {
      const missing = isCiloError(e) && e.exitCode === ExitCode.prerequisite;
      throw invalid(
        missing
          ? `"${opts.target}" is neither an ssh:// or tcp:// address nor a Docker context`
          : `The Docker context "${opts.target}" cannot be used: ${reasonOf(e)}`,
        "Use ssh://user@host[:port], tcp://host:2376 with --tls-dir, or a context of docker context ls",
      );
    }
  }
  if (opts.remoteRoot !== undefined) {
    const why = remoteRootProblem(opts.remoteRoot);
    if (why) throw invalid(why, "Give an absolute folder such as /srv/cilo-remote");
    rec.remote_root = opts.remoteRoot;
  }
  if (opts.tlsDir !== undefined) {
    const dir = resolve(ctx.cwd, opts.tlsDir);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw invalid(`--tls-dir ${dir} is not a folder`);
    const missing = ["ca.pem", "cert.pem", "key.pem"].filter((f) => !existsSync(join(dir, f)));
    if (missing.length) throw invalid(`--tls-dir ${dir} has no ${missing.join(", ")}`, "It takes the DOCKER_CERT_PATH layout: ca.pem, cert.pem, key.pem");
    rec.tls_dir = dir;
  }
  return rec;
}

/**
 * `cilo host add`: validates (exit 2), refuses a recorded name (exit 2), asks the engine unless
 * `check: false` (exit 3 naming the host and the check when it does not answer), then records the
 * host under the state lock. Nothing is written before every check passed.
 */
export async function addHost(ctx: CiloContext, opts: AddHostOptions): Promise<{ view: HostView; warnings: string[] }> {
  const rec = hostRecordFrom(ctx, opts);
  const exists = () =>
    new CiloError("E_HOST_EXISTS", `A host named "${opts.name}" is recorded already`, {
      exitCode: ExitCode.usage,
      hint: `cilo host rm ${opts.name} first, or pick another name`,
    });
  if (readState(ctx).hosts?.[opts.name] !== undefined) throw exists();
  const warnings: string[] = [];
  if (rec.address?.startsWith("tcp://") && !rec.tls_dir) {
    warnings.push(`${rec.address} is plain TCP: anyone who reaches it controls that engine. Prefer ssh:// or tcp:// with --tls-dir`);
  }
  // A tcp:// engine given by name: what it resolves to now (the address its gateway and forwards
  // publish on), or why it does not (host/resolve-name.ts).
  const resolved = await resolveEngineName(ctx, hostEndpoint(ctx, opts.name, rec).host);
  if (resolved) rec.resolved = resolved;
  if (opts.check !== false) {
    const endpoint = hostEndpoint(ctx, opts.name, rec);
    await pingHost(ctx.forEndpoint(endpoint), opts.name, endpoint, rec.resolved);
  }
  await withState(ctx, (state) => {
    if (state.hosts?.[opts.name] !== undefined) throw exists();
    state.hosts = { ...(state.hosts ?? {}), [opts.name]: rec };
  });
  return { view: hostView(ctx, readState(ctx), opts.name, rec), warnings };
}

/** The envs recorded on host `name`, as `<project>/<env>`, sorted. */
export function envsOnHost(state: State, name: string): string[] {
  return Object.entries(state.envs)
    .filter(([, e]) => e.host === name)
    .map(([k]) => k)
    .sort();
}

function hostView(ctx: CiloContext, state: State, name: string, rec: HostRecord): HostView {
  let endpoint: string | null;
  try {
    endpoint = hostEndpoint(ctx, name, rec).host;
  } catch {
    endpoint = null;
  }
  return {
    name,
    ...(rec.address ? { address: rec.address } : {}),
    ...(rec.context ? { context: rec.context } : {}),
    endpoint,
    ...(rec.tls_dir ? { tls_dir: rec.tls_dir } : {}),
    ...(rec.remote_root ? { remote_root: rec.remote_root } : {}),
    added_at: rec.added_at,
    envs: envsOnHost(state, name),
  };
}

/** `cilo host list`: every recorded host, by name. */
export function listHosts(ctx: CiloContext): HostView[] {
  const state = readState(ctx);
  return Object.entries(state.hosts ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, rec]) => hostView(ctx, state, name, rec));
}

/** `cilo host rm`: refused (E_HOST_IN_USE, exit 1) while an env names the host; checked and removed under the lock. */
export async function removeHost(ctx: CiloContext, name: string): Promise<void> {
  await withState(ctx, (state) => {
    findHost(state, name);
    const envs = envsOnHost(state, name);
    if (envs.length > 0) {
      throw new CiloError("E_HOST_IN_USE", `The host ${name} has ${envs.length} env${envs.length === 1 ? "" : "s"}: ${envs.join(", ")}`, {
        exitCode: ExitCode.failure,
        hint: `Destroy them first (cilo destroy <env>), then cilo host rm ${name}`,
      });
    }
    const { [name]: _gone, ...rest } = state.hosts!;
    if (Object.keys(rest).length === 0) delete state.hosts;
    else state.hosts = rest;
  });
}

/** A host an env's workspace can live on: its name, the address its engine uses, and whether that is SSH. */
export interface RemoteHost {
  name: string;
  address: string;
  rec: HostRecord;
  endpoint: DockerEndpoint;
  /** ssh:// (rsync over ssh); else the engine's archive API (tar through a helper container). */
  ssh: boolean;
}

/** The host `name` of the state (E_HOST_NOT_FOUND, exit 2, when none is recorded). */
export function remoteHost(ctx: Pick<CiloContext, "env">, state: State, name: string): RemoteHost {
  const rec = findHost(state, name);
  const endpoint = hostEndpoint(ctx, name, rec);
  return { name, address: endpoint.host, rec, endpoint, ssh: endpoint.host.startsWith("ssh://") };
}
