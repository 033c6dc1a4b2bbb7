import { createInterface } from "node:readline/promises";
import { destroyEnv } from "../../core/env/destroy-env.ts";
import { currentProject, findEnv } from "../../core/env/find-env.ts";
import { CiloError } from "../../core/errors.ts";
import { readState } from "../../core/state/store.ts";
import { println } from "../output.ts";

interface DestroyOptions {
  force?: boolean;
  keepWorkspace?: boolean;
  project?: string;
}

export default async function destroy(env: string, opts: DestroyOptions): Promise<number> {
  if (!opts.force && process.stdin.isTTY && process.stderr.isTTY) {
    const rec = findEnv(readState(), env, await currentProject(opts.project));
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question(`Destroy ${rec.project}/${rec.name}: containers, network, volumes${opts.keepWorkspace ? "" : ` and ${rec.workspace}`}? [y/N] `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) throw new CiloError("E_ABORTED", "Nothing was destroyed");
  }
  const result = await destroyEnv({
    ref: env,
    force: !!opts.force,
    keepWorkspace: !!opts.keepWorkspace,
    ...(opts.project ? { project: opts.project } : {}),
    ...(process.stderr.isTTY ? { onOutput: (c: string) => process.stderr.write(c) } : {}),
  });
  if (result) println(`Destroyed ${result.project}/${result.name}`);
  return 0;
}
