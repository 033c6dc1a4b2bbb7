import type { CiloContext } from "../../core/context/context.ts";
import { createInterface } from "node:readline/promises";
import { destroyEnv } from "../../core/env/destroy-env.ts";
import { destroyView } from "../../core/env/env-view.ts";
import { planWorkspaceRemoval } from "../../core/env/destroy-workspace.ts";
import { currentProjectFor } from "../../core/config/current-project.ts";
import { findEnv } from "../../core/state/find-env.ts";
import { CiloError } from "../../core/errors.ts";
import { workspacePath } from "../../core/paths.ts";
import { readState } from "../../core/state/store.ts";
import { printJson, println, warn } from "../output.ts";

interface DestroyOptions {
  force?: boolean;
  keepWorkspace?: boolean;
  project?: string;
  json?: boolean;
}

export default async function destroy(ctx: CiloContext, env: string, opts: DestroyOptions): Promise<number> {
  if (!opts.force && process.stdin.isTTY && process.stderr.isTTY) {
    const rec = findEnv(readState(ctx), env, await currentProjectFor(env, opts.project, ctx.cwd));
    if (!opts.keepWorkspace) await planWorkspaceRemoval(ctx, rec, { ref: env }); // refuses losing work before asking
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question(
      `Destroy ${rec.project}/${rec.name}: containers, network, volumes${opts.keepWorkspace ? "" : ` and ${workspacePath(rec.project, rec.name, ctx.home)}`}? [y/N] `,
    );
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) throw new CiloError("E_ABORTED", "Nothing was destroyed");
  }
  const result = await destroyEnv(ctx, {
    ref: env,
    force: !!opts.force,
    keepWorkspace: !!opts.keepWorkspace,
    discardWork: !!opts.force,
    onNotice: (line, level) => (level === "warning" ? warn(line) : process.stderr.write(`${line}\n`)),
    ...(opts.project ? { project: opts.project } : {}),
    ...(process.stderr.isTTY ? { onOutput: (c: string) => process.stderr.write(c) } : {}),
  });
  if (opts.json) printJson(destroyView(env, result, !!opts.keepWorkspace));
  else if (result) println(`Destroyed ${result.project}/${result.name}`);
  return 0;
}
