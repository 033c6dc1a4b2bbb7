import type { CiloContext } from "../context/context.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CiloError } from "../errors.ts";
import { git, gitMessage } from "../workspace/git.ts";
import { envKey } from "../state/schema.ts";
import { resolveEnv, type EnvRef } from "./service-ops.ts";

/** cilo's own artefacts in a workspace (the rendered compose file and such): never part of the diff. */
const GENERATED_DIR = ".cilo/";

export interface EnvDiff {
  /** `<project>/<env>` */
  env: string;
  workspace: string;
  /** What the patch is against: `HEAD` (or the given base) as a commit id. */
  base: string;
  /** Changed, added and deleted paths (relative to the workspace), untracked files included. */
  files: string[];
  /** `git diff --binary` of tracked changes followed by each untracked file as an added file; "" when nothing changed. */
  patch: string;
}

/**
 * MCP `env_diff`: the changes in the env's workspace as one patch that `git apply` takes: tracked
 * changes against `base` (default HEAD, so uncommitted work) and untracked, not ignored files as
 * added files. Only for git workspaces (`--clone worktree`, `--git`); a plain copy has no history.
 */
export async function envDiff(ctx: CiloContext, opts: EnvRef & { base?: string }): Promise<EnvDiff> {
  const rec = await resolveEnv(ctx, opts);
  const ws = rec.workspace;
  if (!existsSync(join(ws, ".git"))) {
    throw new CiloError("E_DIFF_UNSUPPORTED", `The workspace of ${envKey(rec.project, rec.name)} is a plain copy, not a git workspace: it has no diff`, {
      hint: "Create the env with --clone worktree (from a git repository) or --git <url>",
    });
  }
  const run = async (args: string[], okCodes = [0]) => {
    const r = await git(ctx.env, ["-C", ws, ...args]);
    if (!okCodes.includes(r.code)) throw new CiloError("E_GIT_FAILED", `git ${args[0]} failed in ${ws}: ${gitMessage(r)}`);
    return r.stdout;
  };
  const base = (await run(["rev-parse", "--verify", `${opts.base ?? "HEAD"}^{commit}`])).trim();
  const tracked = await run(["diff", "--binary", base, "--"]);
  const changed = (await run(["diff", "--name-only", "-z", base, "--"])).split("\0").filter(Boolean);
  const untracked = (await run(["ls-files", "--others", "--exclude-standard", "-z"])).split("\0").filter((f) => f && !f.startsWith(GENERATED_DIR));
  const added: string[] = [];
  for (const file of untracked) added.push(await run(["diff", "--binary", "--no-index", "--", "/dev/null", file], [0, 1]));
  return { env: envKey(rec.project, rec.name), workspace: ws, base, files: [...changed, ...untracked].sort(), patch: tracked + added.join("") };
}
