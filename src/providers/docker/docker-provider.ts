import Docker from "dockerode";
import { describeEndpoint, dockerodeOptions, type DockerEndpoint } from "../../core/docker-endpoint.ts";
import { sshDialAgent } from "./ssh-dial.ts";
import { CiloError, ExitCode, messageOf, prerequisiteError } from "../../core/errors.ts";
import { padding, TAR_END, tarHeaders } from "../../core/fs/tar.ts";
import type {
  ContainerSpec,
  ContainerState,
  EngineDetails,
  EngineInfo,
  NetworkState,
  RuntimeProvider,
  VolumeInfo,
  VolumeState,
} from "../../core/runtime/provider.ts";
import type { IncomingMessage } from "node:http";
import { posix } from "node:path";
import { type EngineChoice, type EngineKind, engineOfPing, engineOfVersion } from "../../core/engine.ts";

export interface ProviderOptions {
  /** The engine cilo was told to use: an endpoint answering as another engine is refused at ping. */
  expect?: EngineChoice;
  /** What engine detection already found (`/_ping` or `/version`): the first ping uses it instead of asking again. */
  known?: EngineInfo;
}

/**
 * The Docker engine through dockerode, at one endpoint (the context's, which the compose CLI calls
 * get too: DOCKER_HOST, else the Docker context, else the local socket). `env` gives SSH_AUTH_SOCK.
 */
export class DockerProvider implements RuntimeProvider {
  readonly name: EngineKind = "docker";
  readonly endpoint: DockerEndpoint;
  protected readonly docker: Docker;
  private readonly expect: EngineChoice | undefined;
  private known: EngineInfo | undefined;
  private pinged: EngineInfo | undefined;

  get address(): string {
    return describeEndpoint(this.endpoint);
  }

  constructor(endpoint: DockerEndpoint, env: NodeJS.ProcessEnv = {}, opts: ProviderOptions = {}) {
    this.endpoint = endpoint;
    const options = dockerodeOptions(endpoint, env);
    // ssh://: through the ssh program, as the Docker CLI and compose do (ssh-dial.ts), not ssh2.
    if (options["protocol"] === "ssh") Object.assign(options, { protocol: "http", agent: sshDialAgent(endpoint.host, env) });
    this.docker = new Docker(options as Docker.DockerOptions);
    this.expect = opts.expect;
    this.known = opts.known;
  }

  /** The engine's `/version` answer (throws dockerode's error when it does not answer). */
  version(): Promise<Docker.DockerVersion> {
    return this.docker.version();
  }

  /**
   * The engine, its version and API version, from one `/_ping` (its headers name them: cheap on
   * Podman, where `/version` takes seconds), else from `/version` when the headers do not say.
   * Throws dockerode's error when the engine does not answer.
   */
  async identify(): Promise<EngineInfo> {
    const headers = await new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
      this.docker.modem.dial({ path: "/_ping", method: "GET", isStream: true, statusCodes: { 200: true, 500: "server error" } }, (err, res) => {
        // isStream: the response itself (node's IncomingMessage, also under Deno), for its headers.
        const answer = res as IncomingMessage | null;
        if (err || !answer?.headers) return reject(err ?? new Error("no answer to /_ping"));
        // Answered once its (two-byte) body is read: the connection is then free for the next
        // request (an ssh:// engine's are kept, ssh-dial.ts), not busy when the caller asks again.
        answer.on("end", () => resolve(answer.headers));
        answer.on("error", () => resolve(answer.headers));
        answer.resume();
      });
    });
    const fromPing = engineOfPing(headers);
    if (fromPing) return fromPing;
    const v = await this.docker.version();
    return { version: v.Version, apiVersion: v.ApiVersion, engine: engineOfVersion(v) };
  }

  /** One `/_ping` (liveness, and which engine answers); the first may reuse what detection found. */
  async ping(): Promise<EngineInfo> {
    let info = this.known;
    this.known = undefined;
    try {
      info ??= await this.identify();
    } catch (e) {
      throw this.unreachable(e);
    }
    const engine = info.engine ?? "docker";
    if (this.expect && this.expect.engine !== engine) {
      throw prerequisiteError(
        "E_ENGINE_MISMATCH",
        `${this.expect.source} says ${this.expect.engine}, but the engine at ${describeEndpoint(this.endpoint)} is ${engine === "podman" ? "Podman" : "Docker"}`,
        this.expect.engine === "podman"
          ? "Point DOCKER_HOST at Podman's API socket (e.g. unix:///run/podman/podman.sock), or choose docker (CILO_ENGINE=docker / cilo init --engine docker)"
          : "Point DOCKER_HOST at the Docker engine, or choose podman (CILO_ENGINE=podman / cilo init --engine podman)",
      );
    }
    this.pinged = { ...info, engine };
    return this.pinged;
  }

  lastPing(): EngineInfo | undefined {
    return this.pinged;
  }

  async info(): Promise<EngineDetails> {
    const i = await this.call(() => this.docker.info());
    return { name: i.Name, rootDir: i.DockerRootDir, storageDriver: i.Driver, os: i.OperatingSystem };
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerState[]> {
    const list = await this.call(() => this.docker.listContainers({ all: true, filters: { label: labelFilters(labels) } }));
    return list.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? c.Id).replace(/^\//, ""),
      labels: c.Labels ?? {},
      state: c.State,
      ...parseStatus(c.Status),
      volumes: (c.Mounts ?? []).filter((m) => m.Type === "volume" && m.Name).map((m) => m.Name as string),
      ips: Object.fromEntries(
        Object.entries(c.NetworkSettings?.Networks ?? {})
          .filter(([, n]) => n.IPAddress)
          .map(([name, n]) => [name, n.IPAddress]),
      ),
    }));
  }

  async inspectContainer(id: string): Promise<ContainerState | undefined> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(id).inspect();
    } catch (e: any) {
      if (e?.statusCode === 404) return undefined;
      throw this.wrap(e);
    }
    const st = info.State;
    return {
      id: info.Id,
      name: info.Name.replace(/^\//, ""),
      labels: info.Config.Labels ?? {},
      state: st.Status,
      ...(st.Health?.Status ? { health: st.Health.Status } : {}),
      exitCode: st.ExitCode,
      restartCount: info.RestartCount,
      ips: Object.fromEntries(
        Object.entries(info.NetworkSettings.Networks ?? {})
          .filter(([, n]) => n.IPAddress)
          .map(([name, n]) => [name, n.IPAddress]),
      ),
      aliases: Object.fromEntries(Object.entries(info.NetworkSettings.Networks ?? {}).map(([name, n]) => [name, n.Aliases ?? []])),
    };
  }

  async listNetworks(labels?: Record<string, string>): Promise<NetworkState[]> {
    const list = await this.call(() => this.docker.listNetworks(labels ? { filters: { label: labelFilters(labels) } } : {}));
    return list.map((n) => ({
      id: n.Id,
      name: n.Name,
      subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => typeof s === "string"),
      labels: n.Labels ?? {},
    }));
  }

  async listVolumes(labels?: Record<string, string>): Promise<VolumeState[]> {
    const res = await this.call(() => this.docker.listVolumes(labels ? { filters: { label: labelFilters(labels) } } : {}));
    return (res.Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {} }));
  }

  async removeContainer(id: string): Promise<void> {
    await this.ignore404(() => this.docker.getContainer(id).remove({ force: true, v: true }));
  }

  async removeNetwork(id: string): Promise<void> {
    await this.ignore404(() => this.docker.getNetwork(id).remove());
  }

  async removeVolume(name: string): Promise<void> {
    await this.ignore404(() => this.docker.getVolume(name).remove({ force: true }));
  }

  async disconnectNetwork(networkId: string, containerId: string): Promise<void> {
    try {
      await this.docker.getNetwork(networkId).disconnect({ Container: containerId, Force: true });
    } catch (e: any) {
      if (e?.statusCode === 404 || e?.statusCode === 403) return;
      throw this.wrap(e);
    }
  }

  async logs(id: string, tail: number): Promise<string> {
    const buf = (await this.call(() => this.docker.getContainer(id).logs({ stdout: true, stderr: true, tail, follow: false }))) as unknown as Buffer;
    return demux(buf);
  }

  async hasImage(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (e: any) {
      if (e?.statusCode === 404) return false;
      throw this.wrap(e);
    }
  }

  async pullImage(image: string): Promise<void> {
    const stream = await this.call(() => this.docker.pull(image) as Promise<NodeJS.ReadableStream>);
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => {
        const failed = err ?? (out ?? []).find((o) => o.error)?.error;
        if (failed) reject(this.wrap(failed instanceof Error ? failed : new Error(String(failed))));
        else resolve();
      });
    });
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of spec.publish ?? []) {
      const key = `${p.containerPort}/tcp`;
      exposed[key] = {};
      bindings[key] = [...(bindings[key] ?? []), { HostIp: p.hostIp, HostPort: String(p.hostPort) }];
    }
    try {
      const c = await this.docker.createContainer({
        name: spec.name,
        Image: spec.image,
        Cmd: spec.cmd,
        Labels: spec.labels,
        ExposedPorts: exposed,
        HostConfig: {
          PortBindings: bindings,
          ...(spec.network ? { NetworkMode: spec.network } : {}),
          ...(spec.restart ? { RestartPolicy: { Name: "unless-stopped" } } : {}),
          ...(spec.volumes || spec.binds
            ? { Binds: [...(spec.volumes ?? []).map((v) => `${v.volume}:${v.target}`), ...(spec.binds ?? []).map((b) => `${b.source}:${b.target}:ro`)] }
            : {}),
        },
      });
      return c.id;
    } catch (e: any) {
      if (e?.statusCode === 409) {
        throw new CiloError("E_DOCKER_CONFLICT", `A container named ${spec.name} exists already`, { cause: e });
      }
      throw this.wrap(e);
    }
  }

  async startContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (e: any) {
      const text = String(e?.json?.message ?? e?.message ?? "");
      if (/port is already allocated|address already in use|bind for .* failed/i.test(text)) {
        throw new CiloError("E_DOCKER_PORT_TAKEN", text.split("\n")[0]!, { cause: e });
      }
      if (e?.statusCode === 304) return;
      throw this.wrap(e);
    }
  }

  async connectNetwork(networkId: string, containerId: string, aliases: string[] = []): Promise<void> {
    try {
      await this.docker.getNetwork(networkId).connect({ Container: containerId, ...(aliases.length > 0 ? { EndpointConfig: { Aliases: aliases } } : {}) });
    } catch (e: any) {
      const text = String(e?.json?.message ?? e?.message ?? "");
      if (e?.statusCode === 403 && /already exists|already attached/i.test(text)) return;
      throw this.wrap(e);
    }
  }

  async exec(id: string, cmd: string[]): Promise<{ code: number; output: string }> {
    return this.call(async () => {
      const ex = await this.docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
      const stream = await ex.start({ hijack: true, stdin: false });
      const chunks: Buffer[] = [];
      await new Promise<void>((resolve, reject) => {
        stream.on("data", (d: Buffer) => chunks.push(d));
        stream.on("end", () => resolve());
        stream.on("close", () => resolve());
        stream.on("error", reject);
      });
      const info = await ex.inspect();
      return { code: info.ExitCode ?? -1, output: demux(Buffer.concat(chunks)) };
    });
  }

  async putFile(id: string, path: string, content: string, mode = 0o644): Promise<void> {
    const dir = posix.dirname(path);
    const tar = tarOf(dir.replace(/^\//, ""), posix.basename(path), Buffer.from(content, "utf8"), mode);
    await this.call(() => this.docker.getContainer(id).putArchive(tar, { path: "/" }));
  }

  async inspectVolume(name: string): Promise<VolumeInfo | undefined> {
    try {
      const v = await this.docker.getVolume(name).inspect();
      return { name: v.Name, labels: v.Labels ?? {}, driver: v.Driver, ...(v.Mountpoint ? { mountpoint: v.Mountpoint } : {}) };
    } catch (e: any) {
      if (e?.statusCode === 404) return undefined;
      throw this.wrap(e);
    }
  }

  async createNetwork(spec: { name: string; driver: string; subnet: string; labels: Record<string, string> }): Promise<void> {
    try {
      await this.docker.createNetwork({
        Name: spec.name,
        Driver: spec.driver,
        IPAM: { Driver: "default", Config: [{ Subnet: spec.subnet }] },
        Labels: spec.labels,
        Attachable: true,
        CheckDuplicate: true,
      });
    } catch (e: any) {
      if (e?.statusCode === 409) throw new CiloError("E_DOCKER_CONFLICT", `The network ${spec.name} exists already`, { cause: e });
      throw this.wrap(e);
    }
  }

  async createVolume(spec: { name: string; labels: Record<string, string>; driver?: string }): Promise<void> {
    await this.call(() => this.docker.createVolume({ Name: spec.name, Labels: spec.labels, Driver: spec.driver ?? "local" }));
  }

  async pauseContainer(id: string): Promise<void> {
    await this.call(() => this.docker.getContainer(id).pause());
  }

  async unpauseContainer(id: string): Promise<void> {
    await this.call(() => this.docker.getContainer(id).unpause());
  }

  async stopContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).stop();
    } catch (e: any) {
      if (e?.statusCode === 304) return;
      throw this.wrap(e);
    }
  }

  async archiveOut(id: string, path: string): Promise<NodeJS.ReadableStream> {
    return this.call(() => this.docker.getContainer(id).getArchive({ path }));
  }

  async archiveIn(id: string, path: string, tar: NodeJS.ReadableStream): Promise<void> {
    await this.call(() => this.docker.getContainer(id).putArchive(tar, { path }));
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.wrap(e);
    }
  }

  private async ignore404(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (e: any) {
      if (e?.statusCode === 404) return;
      throw this.wrap(e);
    }
  }

  /** The engine does not answer: a prerequisite error whose hint starts it. */
  protected unreachable(e: unknown): CiloError {
    return unreachable(e, this.endpoint);
  }

  protected wrap(e: unknown): CiloError {
    if (e instanceof CiloError) return e;
    if (isConnectionError(e)) return this.unreachable(e);
    const json = (e as any)?.json?.message;
    // The Podman provider inherits this: the engine is named as the user chose it.
    const engine = this.name === "podman" ? "Podman" : "Docker";
    return new CiloError("E_DOCKER", `${engine} refused the request: ${json ?? messageOf(e)}`, { exitCode: ExitCode.failure, cause: e });
  }
}

function labelFilters(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([k, v]) => (v === "" ? k : `${k}=${v}`));
}

/** "Up 3 minutes (healthy)", "Exited (1) 2 seconds ago", "Up 1 second (health: starting)". */
export function parseStatus(status: string | undefined): { health?: string; exitCode?: number } {
  const out: { health?: string; exitCode?: number } = {};
  if (!status) return out;
  const h = /\((healthy|unhealthy|health: starting)\)/.exec(status);
  if (h) out.health = h[1] === "health: starting" ? "starting" : h[1]!;
  const x = /^Exited \((-?\d+)\)/.exec(status);
  if (x) out.exitCode = Number(x[1]);
  return out;
}

/** Docker's multiplexed log stream (8-byte frame headers) to text; plain text passes through. */
export function demux(buf: Buffer): string {
  if (!Buffer.isBuffer(buf)) return String(buf ?? "");
  const chunks: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2 || buf[i] === 0) && buf[i + 1] === 0 && buf[i + 2] === 0 && buf[i + 3] === 0) {
    const len = buf.readUInt32BE(i + 4);
    chunks.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  if (i === 0) return buf.toString("utf8");
  return Buffer.concat(chunks).toString("utf8");
}

function isConnectionError(e: any): boolean {
  if (e?.ssh === true) return true;
  return ["ENOENT", "ECONNREFUSED", "EACCES", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH"].includes(e?.code) || /connect/i.test(e?.message ?? "");
}

function unreachable(e: unknown, endpoint: DockerEndpoint): CiloError {
  return prerequisiteError(
    "E_DOCKER_UNAVAILABLE",
    `The Docker engine at ${describeEndpoint(endpoint)} does not answer (${shortReason(e)})`,
    "Start Docker (e.g. dockerd or systemctl start docker), or point DOCKER_HOST or the Docker context at a running engine",
    e,
  );
}

export function shortReason(e: unknown): string {
  const code = (e as any)?.code;
  return code ? String(code) : messageOf(e).split("\n")[0]!;
}

/** A tar archive of one folder path (each level as an entry) and one file in it. */
export function tarOf(dir: string, name: string, data: Buffer, mode: number): Buffer {
  const now = Date.now();
  const levels = dir.split("/").filter(Boolean);
  const parts = levels.map((_, i) => tarHeaders({ path: levels.slice(0, i + 1).join("/"), type: "dir", mode: 0o755, mtimeMs: now }));
  const file = levels.length > 0 ? `${levels.join("/")}/${name}` : name;
  parts.push(tarHeaders({ path: file, type: "file", mode, mtimeMs: now, size: data.length }), data, padding(data.length), TAR_END);
  return Buffer.concat(parts);
}
