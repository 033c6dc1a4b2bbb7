import { randomBytes } from "node:crypto";
import { envContext } from "../core/env/env-context.ts";
import { resolve } from "node:path";
import { createEnv, type CreatedEnv } from "../core/env/create-env.ts";
import { destroyEnv } from "../core/env/destroy-env.ts";
import { downEnv } from "../core/env/down-env.ts";
import { ciloDnsEnvironment, ciloEnvironment } from "../core/env/run-in-env.ts";
import { upEnv } from "../core/env/up-env.ts";
import { baseUrl, localGateway } from "../core/env/urls.ts";
import { hostCaEnvironment } from "../core/gateway/ca-env.ts";
import { CiloError } from "../core/errors.ts";
import { envSelectorLabels } from "../core/runtime/env-resources.ts";
import { parseEnvRef, qualifiedEnv } from "../core/names.ts";
import { envKey, type EnvRecord, type StateConfig } from "../core/state/schema.ts";
import type { CiloContext as CoreContext } from "../core/context/context.ts";
import { readState, withState } from "../core/state/store.ts";
import { parseDuration } from "./duration.ts";
import type { CiloContext } from "./expression/context.ts";
import type { CloneAction, CreateAction, DestroyAction, UpAction } from "./types.ts";
import type { EnvContainers } from "./wait/container-strategies.ts";
import type { CiloDns } from "./wait/resolve-host.ts";

/** An env a run created (or is creating). */
export interface RunEnv {
  name: string;
  /** Known once created. */
  record?: EnvRecord;
  /** Destroyed when the run ends, unless `--keep` (SPEC §7 `create.ephemeral`). */
  ephemeral: boolean;
  state: "creating" | "present" | "destroyed";
}

/** Where the next `create` takes its workspace from, as the last `clone` step said. */
interface Source {
  from?: string;
  git?: string;
  ref?: string;
  mode?: CloneAction["mode"];
  include?: string[];
}

/** Where an operation's output goes, in chunks as they come. */
type Output = (chunk: string) => void;

/**
 * The envs of one workflow run: the workspace source `clone` records, the env `create` makes (the
 * one later steps work on), and every env the run created, for clean-up. Each operation is the
 * core one the CLI uses (createEnv, upEnv, downEnv, destroyEnv).
 */
export class RunEnvs {
  readonly created: RunEnv[] = [];
  current: RunEnv | undefined;
  private source: Source | undefined;

  /** `config` is undefined when cilo is not initialised (host-only workflows still run). */
  constructor(
    /** The context every core operation of the run gets. */
    readonly core: CoreContext,
    private readonly workflowName: string,
    readonly config: StateConfig | undefined,
  ) {}

  /** `clone`: remembered for the next `create`, which makes the workspace. */
  clone(action: CloneAction, dir: string): string {
    this.source = {
      ...(action.git ? { git: action.git, ...(action.ref ? { ref: action.ref } : {}) } : { from: resolve(dir, action.from ?? ".") }),
      ...(action.mode ? { mode: action.mode } : {}),
      ...(action.include ? { include: action.include } : {}),
    };
    return this.source.git ? `${this.source.git}${this.source.ref ? ` at ${this.source.ref}` : ""}` : this.source.from!;
  }

  /**
   * `create`: an env from the last `clone` (default: the workflow's folder), named `env` or, when
   * that is unset or empty, `<workflow>-<6 hex>`; ephemeral unless told otherwise.
   */
  async create(action: CreateAction, dir: string, output: Output): Promise<CreatedEnv> {
    const requested = action.env?.trim() ? action.env : defaultEnvName(this.workflowName);
    const name = parseEnvRef(requested).env;
    const src: Source = this.source ?? { from: dir };
    const ephemeral = action.ephemeral ?? true;
    const entry: RunEnv = { name, ephemeral, state: "creating" };
    this.created.push(entry);
    try {
      const created = await createEnv(this.core, {
        ...(action.seed ? { seed: action.seed } : {}),
        ...(action.seed_from ? { seedFrom: action.seed_from } : {}),
        ...(action.on ? { on: action.on } : {}),
        env: requested,
        ...(src.git ? { git: src.git, ...(src.ref ? { ref: src.ref } : {}) } : { from: src.from ?? dir }),
        ...(action.project ? { project: action.project } : {}),
        ...(src.mode ? { mode: src.mode } : {}),
        ...(src.include ? { include: src.include } : {}),
        ...(ephemeral ? { ownerPid: process.pid } : {}),
        onProgress: (m) => output(`${m}\n`),
      });
      if (created.notice) output(`${created.notice}\n`);
      entry.record = created.env;
      entry.state = "present";
      this.current = entry;
      return created;
    } catch (e) {
      this.created.splice(this.created.indexOf(entry), 1);
      throw e;
    }
  }

  async up(action: UpAction, signal: AbortSignal, output: Output): Promise<void> {
    const rec = this.require("up");
    const timeoutMs = action.timeout === undefined ? undefined : parseDuration(action.timeout);
    this.current!.record = await upEnv(this.core, {
      ref: qualifiedEnv(rec.project, rec.name),
      ...(action.build ? { build: true } : {}),
      ...(action.recreate ? { recreate: true } : {}),
      ...(action.profiles ? { profiles: action.profiles } : {}),
      ...(action.wait ? { wait: true } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      onOutput: output,
      signal,
    });
  }

  async down(output: Output): Promise<void> {
    const rec = this.require("down");
    this.current!.record = await downEnv(this.core, { ref: qualifiedEnv(rec.project, rec.name), onOutput: output });
  }

  /** `destroy`: the current env; nothing to do (and no failure) when there is none. */
  async destroy(action: DestroyAction, output: Output): Promise<void> {
    const entry = this.current;
    if (!entry?.record || entry.state !== "present") {
      output("No env to destroy\n");
      return;
    }
    await this.destroyEntry(entry, output, action.keep_workspace === true);
  }

  async destroyEntry(entry: RunEnv, output: Output, keepWorkspace = false): Promise<void> {
    const rec = entry.record!;
    // The run made this env to throw it away: its work goes too, but the lost tip is told.
    await destroyEnv(this.core, {
      ref: qualifiedEnv(rec.project, rec.name),
      force: true,
      discardWork: true,
      keepWorkspace,
      onOutput: output,
      onNotice: (line, level) => output(`${level === "warning" ? "warning: " : ""}${line}\n`),
    });
    entry.state = "destroyed";
  }

  /** Keeps an env past the run: it no longer dies with this process. */
  async keep(entry: RunEnv): Promise<void> {
    const rec = entry.record!;
    await withState(this.core, (state) => {
      const cur = state.envs[envKey(rec.project, rec.name)];
      if (cur) delete cur.owner_pid;
    });
  }

  /** Envs the run created that still exist (or are being created). */
  remaining(): RunEnv[] {
    return this.created.filter((e) => e.state !== "destroyed");
  }

  /** The env steps work on; a step that needs one fails without it. */
  require(what: string): EnvRecord {
    const rec = this.current?.state === "present" ? this.current.record : undefined;
    if (!rec) throw new CiloError("E_NO_ENV", `${what} needs an env; add a create step before this one`);
    return rec;
  }

  /** `cilo.*` in expressions. */
  context(): CiloContext {
    const rec = this.current?.record;
    const suffix = rec?.dns_suffix ?? this.config?.dns_suffix ?? null;
    if (!rec) return { env: null, project: null, workspace: null, base_url: null, dns_suffix: suffix };
    return {
      env: rec.name,
      project: rec.project,
      workspace: rec.workspace,
      base_url: baseUrl(rec.project, rec.name, suffix!, this.config, localGateway(this.core.env, this.core.endpoint().host)),
      dns_suffix: suffix,
    };
  }

  /** `CILO_*` variables for host commands. */
  environment(): Record<string, string> {
    if (!this.config) return {};
    const rec = this.current?.state === "present" ? this.current.record : undefined;
    return rec ? ciloEnvironment(rec, this.config, localGateway(this.core.env, this.core.endpoint().host)) : ciloDnsEnvironment(this.config);
  }

  /**
   * The CA bundle variables for host commands (core/gateway/ca-env.ts). They go over the step's
   * environment like `CILO_*`; the bundle starts from the `SSL_CERT_FILE` that environment names.
   */
  caEnvironment(env: Record<string, string | undefined>): Record<string, string> {
    if (!this.config) return {};
    return hostCaEnvironment(this.core.home, readState(this.core).home_id, env);
  }

  /** The workspace of the current env, the default folder of `run` steps. */
  workspace(): string | undefined {
    return this.current?.state === "present" ? this.current.record?.workspace : undefined;
  }

  /** Names under cilo's suffixes resolve through cilo's dnsmasq. */
  dns(): CiloDns | undefined {
    if (!this.config) return undefined;
    const suffixes = [...new Set([this.config.dns_suffix, ...this.created.flatMap((e) => (e.record?.dns_suffix ? [e.record.dns_suffix] : []))])];
    return { server: `127.0.0.1:${this.config.dns_port}`, suffixes };
  }

  async containers(): Promise<EnvContainers | undefined> {
    const rec = this.current?.state === "present" ? this.current.record : undefined;
    return rec ? { provider: await envContext(this.core, rec).provider(), labels: envSelectorLabels(rec, readState(this.core).home_id) } : undefined;
  }
}

/** `<workflow name>-<6 hex>`, made a valid env name. */
export function defaultEnvName(workflowName: string): string {
  const slug =
    workflowName
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 56)
      .replace(/-+$/, "") || "workflow";
  return `${slug}-${randomBytes(3).toString("hex")}`;
}

/** How an env is named to users: `<project>/<env>`, or the bare name while it is being created. */
export function envLabel(entry: RunEnv): string {
  return entry.record ? envKey(entry.record.project, entry.record.name) : entry.name;
}
