import { parseEnvRef } from "../core/names.ts";
import type { CiloContext } from "../core/context/context.ts";
import { currentProjectFor } from "../core/config/current-project.ts";
import { CiloError } from "../core/errors.ts";
import { findEnv } from "../core/state/find-env.ts";
import { envKey, type EnvRecord } from "../core/state/schema.ts";
import { readState } from "../core/state/store.ts";

/**
 * One MCP session (one `cilo mcp` process, one client). Envs it creates are leased to it: their
 * `owner_pid` is this process, so when the client goes (stdin closes, the server exits) the
 * reaper (src/core/env/reaper.ts) destroys them, unless created with `keep: true`. The session may
 * only touch the envs it created, unless the server runs with `--all-envs`.
 */
export class McpSession {
  private readonly created = new Set<string>();
  /** Aborted when the session ends: running commands are killed with it. */
  readonly ended = new AbortController();

  constructor(
    readonly ctx: CiloContext,
    readonly allEnvs: boolean,
  ) {}

  /** The pid whose end destroys the session's leased envs. */
  get leasePid(): number {
    return process.pid;
  }

  adopt(rec: EnvRecord): void {
    this.created.add(envKey(rec.project, rec.name));
  }

  forget(key: string): void {
    this.created.delete(key);
  }

  mayTouch(rec: EnvRecord): boolean {
    return this.allEnvs || this.created.has(envKey(rec.project, rec.name));
  }

  /**
   * The env a tool names, as `<project>/<env>`: a bare name is first one of the session's own envs,
   * then resolved as the CLI does (the server's current project). Refused when the session may
   * not touch it.
   */
  async resolve(ref: string, project?: string): Promise<EnvRecord> {
    const state = readState(this.ctx);
    const parsed = parseEnvRef(ref);
    if (parsed.project === undefined && project === undefined) {
      // A bare name (a branch name too) means this session's own env first.
      const mine = Object.values(state.envs).filter((e) => e.name === parsed.env && this.created.has(envKey(e.project, e.name)));
      if (mine.length === 1) return mine[0]!;
    }
    const rec = findEnv(state, ref, await currentProjectFor(ref, project, this.ctx.cwd));
    if (!this.mayTouch(rec)) {
      throw new CiloError("E_NOT_LEASED", `The env ${envKey(rec.project, rec.name)} was not created by this MCP session`, {
        hint: "A session may only touch the envs it created; start the server with cilo mcp --all-envs to reach every env",
      });
    }
    return rec;
  }
}
