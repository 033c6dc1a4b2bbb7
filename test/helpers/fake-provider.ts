// An in-memory container runtime and compose CLI for unit tests of core operations: no Docker.
// `FakeProvider` holds containers, networks and volumes with their labels and records what is
// removed; `FakeCompose` stands in for `CiloContext.runCompose` and records every call, and its
// `up`/`down` change the fake's resources the way compose would (see `onUp`).
import type { ComposeCli, ComposeTarget } from "../../src/core/compose/compose-cli.ts";
import type { RunOptions, RunResult } from "../../src/core/proc/run.ts";
import type { ContainerSpec, ContainerState, EngineInfo, NetworkState, RuntimeProvider, VolumeInfo, VolumeState } from "../../src/core/runtime/provider.ts";

export interface Removal {
  kind: "container" | "network" | "volume";
  id: string;
}

function matches(labels: Record<string, string>, wanted: Record<string, string> | undefined): boolean {
  return Object.entries(wanted ?? {}).every(([k, v]) => labels[k] === v);
}

export class FakeProvider implements RuntimeProvider {
  readonly name = "fake";
  containers: ContainerState[] = [];
  networks: NetworkState[] = [];
  volumes: VolumeState[] = [];
  /** Everything removed, in order. */
  readonly removed: Removal[] = [];
  readonly disconnected: { networkId: string; containerId: string }[] = [];
  /** Set to make `ping` fail as an unreachable engine would. */
  down = false;
  /** The engine `ping` names (undefined: none, as an engine cilo cannot tell). */
  engine: EngineInfo["engine"];
  private next = 1;

  /** `address`: the engine's address as a provider reports it (a `tcp://` host's engine in remote tests). */
  constructor(readonly address = "fake://engine") {}

  id(prefix: string): string {
    return `${prefix}${String(this.next++).padStart(4, "0")}`;
  }

  addContainer(c: Partial<ContainerState> & { name: string; labels: Record<string, string> }): ContainerState {
    const full: ContainerState = { id: this.id("c"), state: "running", ips: {}, ...c };
    this.containers.push(full);
    return full;
  }

  addNetwork(n: Partial<NetworkState> & { name: string }): NetworkState {
    const full: NetworkState = { id: this.id("n"), subnets: [], labels: {}, ...n };
    this.networks.push(full);
    return full;
  }

  addVolume(v: Partial<VolumeState> & { name: string }): VolumeState {
    const full: VolumeState = { labels: {}, ...v };
    this.volumes.push(full);
    return full;
  }

  async ping(): Promise<EngineInfo> {
    if (this.down) throw new Error("fake engine is down");
    return { version: "0.0-fake", apiVersion: "1.0", ...(this.engine ? { engine: this.engine } : {}) };
  }
  async listContainers(labels: Record<string, string>): Promise<ContainerState[]> {
    return this.containers.filter((c) => matches(c.labels, labels)).map((c) => structuredClone(c));
  }
  async inspectContainer(id: string): Promise<ContainerState | undefined> {
    const c = this.containers.find((x) => x.id === id);
    return c && structuredClone(c);
  }
  async listNetworks(labels?: Record<string, string>): Promise<NetworkState[]> {
    return this.networks.filter((n) => matches(n.labels, labels)).map((n) => structuredClone(n));
  }
  async listVolumes(labels?: Record<string, string>): Promise<VolumeState[]> {
    return this.volumes.filter((v) => matches(v.labels, labels)).map((v) => structuredClone(v));
  }
  async removeContainer(id: string): Promise<void> {
    this.containers = this.containers.filter((c) => c.id !== id);
    this.removed.push({ kind: "container", id });
  }
  async removeNetwork(id: string): Promise<void> {
    this.networks = this.networks.filter((n) => n.id !== id);
    this.removed.push({ kind: "network", id });
  }
  async removeVolume(name: string): Promise<void> {
    this.volumes = this.volumes.filter((v) => v.name !== name);
    this.removed.push({ kind: "volume", id: name });
  }
  async disconnectNetwork(networkId: string, containerId: string): Promise<void> {
    this.disconnected.push({ networkId, containerId });
    const c = this.containers.find((x) => x.id === containerId);
    if (c) {
      const { [networkId]: _ip, ...ips } = c.ips;
      const { [networkId]: _aliases, ...aliases } = c.aliases ?? {};
      c.ips = ips;
      c.aliases = aliases;
    }
  }
  async logs(): Promise<string> {
    return "";
  }

  /** Files written with `putFile`, by container id and path; commands run with `exec`. */
  readonly files = new Map<string, string>();
  readonly execs: { id: string; cmd: string[] }[] = [];

  async hasImage(): Promise<boolean> {
    return true;
  }
  async pullImage(): Promise<void> {}
  async createContainer(spec: ContainerSpec): Promise<string> {
    if (this.containers.some((c) => c.name === spec.name)) throw new Error(`name ${spec.name} in use`);
    return this.addContainer({ name: spec.name, labels: spec.labels, state: "created" }).id;
  }
  async startContainer(id: string): Promise<void> {
    const c = this.containers.find((x) => x.id === id);
    if (c) c.state = "running";
  }
  async connectNetwork(networkId: string, containerId: string, aliases: string[] = []): Promise<void> {
    const c = this.containers.find((x) => x.id === containerId);
    if (c && !(networkId in c.ips)) {
      c.ips = { ...c.ips, [networkId]: "" };
      c.aliases = { ...c.aliases, [networkId]: aliases };
    }
  }
  async exec(id: string, cmd: string[]): Promise<{ code: number; output: string }> {
    this.execs.push({ id, cmd });
    return { code: 0, output: "" };
  }
  async putFile(id: string, path: string, content: string): Promise<void> {
    this.files.set(`${id}:${path}`, content);
  }
  async inspectVolume(name: string): Promise<VolumeInfo | undefined> {
    const v = this.volumes.find((x) => x.name === name);
    return v && { ...structuredClone(v), driver: "local" };
  }
  async createVolume(spec: { name: string; labels: Record<string, string> }): Promise<void> {
    if (this.volumes.some((v) => v.name === spec.name)) return;
    this.addVolume({ name: spec.name, labels: spec.labels });
  }
  async pauseContainer(id: string): Promise<void> {
    const c = this.containers.find((x) => x.id === id);
    if (c) c.state = "paused";
  }
  async unpauseContainer(id: string): Promise<void> {
    const c = this.containers.find((x) => x.id === id);
    if (c) c.state = "running";
  }
  async stopContainer(id: string): Promise<void> {
    const c = this.containers.find((x) => x.id === id);
    if (c) c.state = "exited";
  }
  async archiveOut(_id: string, _path: string): Promise<NodeJS.ReadableStream> {
    const { Readable } = await import("node:stream");
    return Readable.from([Buffer.alloc(1024)]);
  }
  async archiveIn(_id: string, _path: string, tar: NodeJS.ReadableStream): Promise<void> {
    for await (const _ of tar) {
      // drained
    }
  }
}

export interface ComposeCall {
  args: string[];
  target: ComposeTarget;
}

export const FAKE_COMPOSE_CLI: ComposeCli = { command: ["fake-compose"], version: "2.30.0", flavor: "v2" };

/**
 * The compose seam of a test context. `config` answers with `model` (YAML or JSON text); `up` and
 * `down` call `onUp` / `onDown` (to make or remove the fake's containers); every call is recorded.
 */
export class FakeCompose {
  readonly calls: ComposeCall[] = [];
  /** What `config` prints: the resolved model of the project (JSON is YAML too). */
  model: Record<string, unknown> = { services: {} };
  onUp: (call: ComposeCall) => void = () => {};
  onDown: (call: ComposeCall) => void = () => {};
  /** A result to answer the next call whose first argument is this with (then forgotten). */
  readonly failNext = new Map<string, RunResult>();

  readonly run = async (_cli: ComposeCli, target: ComposeTarget, args: string[], _opts?: RunOptions): Promise<RunResult> => {
    const call = { args: [...args], target: structuredClone(target) };
    this.calls.push(call);
    const verb = args[0] ?? "";
    const failure = this.failNext.get(verb);
    if (failure) {
      this.failNext.delete(verb);
      return failure;
    }
    if (verb === "config") return ok(JSON.stringify(this.model));
    if (verb === "up") this.onUp(call);
    if (verb === "down") this.onDown(call);
    return ok("");
  };

  /** The verbs compose was asked to run, in order (`config`, `up`, `down`, ...). */
  verbs(): string[] {
    return this.calls.map((c) => c.args[0] ?? "");
  }
}

function ok(stdout: string): RunResult {
  return { code: 0, stdout, stderr: "", ms: 0 };
}
