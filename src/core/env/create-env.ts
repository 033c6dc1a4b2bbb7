import { resolve } from "node:path";
import { usageError } from "../errors.ts";
import { loadProjectConfig, projectName } from "../config/project-config.ts";
import { normaliseName } from "../names.ts";
import { allocateSubnet } from "../network/subnet-pool.ts";
import { workspacePath } from "../paths.ts";
import { envKey, type EnvRecord } from "../state/schema.ts";
import { withState } from "../state/store.ts";

export interface CreateEnvOptions {
  env: string;
  /** Project folder (default: current folder). */
  from?: string;
  project?: string;
  /** Subnets in use outside cilo's state (Docker networks, host routes). */
  foreignSubnets?: string[];
}

/** Records a new env and allocates its subnet, under the state lock. */
export async function createEnv(opts: CreateEnvOptions): Promise<EnvRecord> {
  const name = normaliseName(opts.env);
  const from = resolve(opts.from ?? process.cwd());
  const { config } = await loadProjectConfig(from);
  const project = projectName(from, config, opts.project);
  return withState((state) => {
    const key = envKey(project, name);
    if (state.envs[key]) {
      throw usageError(`The env "${key}" already exists`, `Use it as it is, or run cilo destroy ${key} first`);
    }
    const taken = [...Object.values(state.envs).map((e) => e.subnet), ...(opts.foreignSubnets ?? [])];
    const subnet = allocateSubnet(state.config.subnet_pool, state.config.subnet_size, taken);
    const now = new Date().toISOString();
    const rec: EnvRecord = {
      project,
      name,
      status: "created",
      subnet,
      workspace: workspacePath(project, name),
      created_at: now,
      updated_at: now,
      source: { kind: "none", path: from },
      services: [],
    };
    state.envs[key] = rec;
    return rec;
  });
}
