import { indexSubnets } from "../state/layout.ts";
import type { State } from "../state/schema.ts";

/**
 * Every subnet cilo's state holds: envs' (their own and their extra ones) and shared instances'.
 * `except.env` leaves out that env's own subnet (not its extra ones). `host` keeps only the envs
 * on that host's engine (`null`: the local engine, whose shared instances count too): subnets are
 * allocated per host, two engines may each use one (docs/remote.md). Absent: every env.
 */
export function stateSubnets(state: State, except?: { env?: string; host?: string | null }): string[] {
  // The index, no env record read: the plain envs' subnets (this machine's engine, no extra
  // subnets) in one scan, every other env whole. Create runs it over every env.
  const { plain, whole } = indexSubnets(state, except?.env !== undefined ? [except.env] : []);
  const out: string[] = except?.host === undefined || except.host === null ? plain : [];
  for (const [key, e] of whole) {
    if (except?.host !== undefined && (e.host ?? null) !== except.host) continue;
    if (key !== except?.env) out.push(e.subnet);
    if (e.extra_subnets !== undefined) for (const network in e.extra_subnets) out.push(e.extra_subnets[network]!);
  }
  if (!except?.host) for (const project in state.shared ?? {}) out.push(state.shared![project]!.subnet);
  return out;
}
