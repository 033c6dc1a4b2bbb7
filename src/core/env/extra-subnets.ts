import type { CiloContext } from "../context/context.ts";
import { CiloError, ExitCode, isCiloError } from "../errors.ts";
import { fixedSubnetNetworks } from "../compose/readdress-networks.ts";
import { envNetworks } from "../runtime/env-resources.ts";
import { overlaps, parseCidr } from "../cidr.ts";
import { foreignSubnets, hostRoutes } from "../network/foreign-subnets.ts";
import { allocateSubnet } from "../network/subnet-pool.ts";
import { stateSubnets } from "../network/used-subnets.ts";
import { envKey, type EnvRecord } from "../state/schema.ts";
import { readState, withState } from "../state/store.ts";

/**
 * Gives the env a subnet from cilo's pool for each of the model's networks that fix one in ipam
 * (`fixedSubnetNetworks`), so that the transform can re-address them: recorded ones are kept
 * unless something outside cilo now overlaps them, missing ones are allocated under the state
 * lock, ones the model no longer has are released. `foreign` are the subnets in use outside cilo
 * (default: Docker's networks but the env's own, and host routes). Returns the record as saved;
 * nothing is written when nothing changes. A pool with no room left is refused with exit 2,
 * naming the network.
 */
export async function ensureExtraSubnets(ctx: CiloContext, rec: EnvRecord, model: Record<string, unknown>, foreign?: string[]): Promise<EnvRecord> {
  const wanted = fixedSubnetNetworks(model);
  const recorded = rec.extra_subnets ?? {};
  if (wanted.length === 0 && Object.keys(recorded).length === 0) return rec;
  const outside = foreign ?? (await foreignOf(ctx, rec));
  const clashes = (subnet: string) => outside.some((f) => parseCidr(f) !== undefined && overlaps(parseCidr(f)!, parseCidr(subnet)!));
  const keep = (network: string) => recorded[network] !== undefined && !clashes(recorded[network]!);
  if (wanted.every(keep) && Object.keys(recorded).every((n) => wanted.includes(n))) return rec;
  const key = envKey(rec.project, rec.name);
  return withState(ctx, (state) => {
    const cur = state.envs[key];
    if (!cur) throw new CiloError("E_ENV_VANISHED", `The env ${key} was removed meanwhile`);
    const taken = [...stateSubnets(state, { host: cur.host ?? null }), ...outside];
    const next: Record<string, string> = {};
    for (const network of wanted) {
      const had = cur.extra_subnets?.[network];
      if (had !== undefined && !clashes(had)) {
        next[network] = had;
        continue;
      }
      try {
        next[network] = allocateSubnet(state.config.subnet_pool, state.config.subnet_size, taken);
      } catch (e) {
        if (!isCiloError(e) || e.code !== "E_SUBNET_POOL_EXHAUSTED") throw e;
        throw new CiloError(
          "E_SUBNET_POOL_EXHAUSTED",
          `Network "${network}" fixes its subnet in ipam, and the subnet pool ${state.config.subnet_pool} has no free /${state.config.subnet_size} left to re-address it for ${key}`,
          {
            exitCode: ExitCode.usage,
            hint: "Destroy unused envs (cilo gc), choose a larger pool with cilo init --subnet-pool, or remove the ipam subnet",
          },
        );
      }
      taken.push(next[network]!);
    }
    if (Object.keys(next).length > 0) cur.extra_subnets = next;
    else delete cur.extra_subnets;
    return { ...cur };
  });
}

/** Subnets in use outside cilo, leaving out the env's own networks (they carry its labels). */
async function foreignOf(ctx: CiloContext, rec: EnvRecord): Promise<string[]> {
  try {
    const provider = await ctx.provider();
    const own = (await envNetworks(provider, rec, readState(ctx).home_id)).map((n) => n.name);
    return await foreignSubnets(provider, own);
  } catch {
    return hostRoutes(); // no engine (create works without one): up checks again
  }
}
