import { type Cidr, overlaps, parseCidr } from "../cidr.ts";
import { indexSubnetBlocks, indexSubnets } from "../state/layout.ts";
import type { IndexLite } from "../state/index-view.ts";
import type { State } from "../state/schema.ts";

/**
 * Every subnet cilo's state holds: envs' (their own and their extra ones) and shared instances'.
 * `except.env` leaves out that env's own subnet (not its extra ones). `host` keeps only the envs
 * on that host's engine (`null`: the local engine, whose shared instances count too): subnets are
 * allocated per host, two engines may each use one (docs/remote.md). Absent: every env.
 */
export function stateSubnets(state: State, except?: { env?: string; host?: string | null }): string[] {
  // The index, no env record read: the plain envs' subnets (this machine's engine, no extra
  // subnets) in one scan, every other env whole.
  const { plain, whole } = indexSubnets(state, except?.env !== undefined ? [except.env] : []);
  const out: string[] = except?.host === undefined || except.host === null ? plain : [];
  for (const s of otherSubnets(state, whole, except)) out.push(s);
  return out;
}

/**
 * The subnets of `stateSubnets` that overlap `pool`, as numbers: what subnet allocation in `pool`
 * compares (no other subnet can change what it picks). The plain envs' subnets are read from the
 * index lines as numbers, no string made and parsed per env: create runs it over every env.
 */
export function stateSubnetsIn(state: State, pool: string, except?: { env?: string; host?: string | null }): Cidr[] {
  const within = parseCidr(pool);
  if (!within) return stateSubnets(state, except).flatMap((s) => parseCidr(s) ?? []); // allocateSubnet says what is wrong with the pool
  const { plain, whole } = indexSubnetBlocks(state, within, except?.env !== undefined ? [except.env] : []);
  const out: Cidr[] = except?.host === undefined || except.host === null ? plain : [];
  for (const s of otherSubnets(state, whole, except)) {
    const c = parseCidr(s);
    if (c && overlaps(c, within)) out.push(c);
  }
  return out;
}

/** The subnets of the envs read whole (`whole`, by `except`'s filters), then the shared instances'. */
function otherSubnets(state: State, whole: [string, IndexLite][], except?: { env?: string; host?: string | null }): string[] {
  const out: string[] = [];
  for (const [key, e] of whole) {
    if (except?.host !== undefined && (e.host ?? null) !== except.host) continue;
    if (key !== except?.env) out.push(e.subnet);
    if (e.extra_subnets !== undefined) for (const network in e.extra_subnets) out.push(e.extra_subnets[network]!);
  }
  if (!except?.host) for (const project in state.shared ?? {}) out.push(state.shared![project]!.subnet);
  return out;
}
