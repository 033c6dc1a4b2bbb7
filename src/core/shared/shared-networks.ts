import type { CiloContext } from "../context/context.ts";
import { CiloError, usageError } from "../errors.ts";
import { lookupEnv } from "../state/find-env.ts";
import { envContainers } from "../runtime/env-resources.ts";
import { envKey, type EnvRecord, type State } from "../state/schema.ts";
import { withState } from "../state/store.ts";
import { dependantsOf } from "./dependants.ts";

/**
 * Shared envs (SPEC §8): an env may join the network of another env (`--shared-network db`), so a
 * whole env such as a database serves many. Its services then reach the other env's services by
 * their compose names. The dependency is kept in the joining env's `shared_networks`.
 */
export function resolveSharedNetworks(state: State, rec: EnvRecord, refs: string[]): string[] {
  return refs.map((ref) => {
    const other = lookupEnv(state, ref, rec.project);
    if (!other) throw usageError(`--shared-network "${ref}" names no env`, "Give the env whose network to join, as <env> or <project>:<env>");
    const key = envKey(other.project, other.name);
    if (key === envKey(rec.project, rec.name)) throw usageError(`The env ${key} cannot join its own network`);
    return key;
  });
}

/** The Docker networks an env joins; each owning env must be running. */
export function joinedNetworks(state: State, rec: EnvRecord): string[] {
  return (rec.shared_networks ?? []).map((key) => {
    const owner = state.envs[key];
    if (!owner) {
      throw usageError(
        `The env ${envKey(rec.project, rec.name)} joins the network of ${key}, which no longer exists`,
        `Create ${key} again, or create this env anew without --shared-network`,
      );
    }
    if (owner.status !== "running") {
      throw usageError(`The env ${key}, whose network ${envKey(rec.project, rec.name)} joins, is not running`, `Start it first: cilo up ${key}`);
    }
    return owner.docker_name;
  });
}

/**
 * Lifecycle protection: an env whose network others join is not taken down or destroyed while
 * they depend on it, unless `force`, which detaches them first (their containers leave the
 * network; their records forget the dependency).
 */
export async function guardDependants(ctx: CiloContext, state: State, rec: EnvRecord, action: "down" | "destroy", force: boolean): Promise<void> {
  const dependants = dependantsOf(state, rec);
  if (dependants.length === 0) return;
  const key = envKey(rec.project, rec.name);
  if (!force) {
    throw new CiloError("E_ENV_IN_USE", `Cannot ${action} ${key}: ${dependants.length} env(s) join its network: ${dependants.join(", ")}`, {
      hint: `${action === "down" ? "Down" : "Destroy"} those first, or pass --force to detach them`,
    });
  }
  const provider = await ctx.provider();
  const network = (await provider.listNetworks()).find((n) => n.name === rec.docker_name);
  for (const dep of dependants) {
    const d = state.envs[dep];
    if (!network || !d) continue;
    for (const c of await envContainers(provider, d, state.home_id)) await provider.disconnectNetwork(network.id, c.id);
  }
  await withState(ctx, (st) => {
    for (const dep of dependants) {
      const d = st.envs[dep];
      if (!d?.shared_networks) continue;
      d.shared_networks = d.shared_networks.filter((k) => k !== key);
      if (d.shared_networks.length === 0) delete d.shared_networks;
    }
  });
}
