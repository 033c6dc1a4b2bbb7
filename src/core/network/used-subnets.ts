import type { State } from "../state/schema.ts";

/**
 * Every subnet cilo's state holds: envs' (their own and their extra ones) and shared instances'.
 * `except.env` leaves out that env's own subnet (not its extra ones).
 */
export function stateSubnets(state: State, except?: { env?: string }): string[] {
  const envs = Object.entries(state.envs)
    .filter(([key]) => key !== except?.env)
    .map(([, e]) => e.subnet);
  const extra = Object.values(state.envs).flatMap((e) => Object.values(e.extra_subnets ?? {}));
  const shared = Object.values(state.shared ?? {}).map((s) => s.subnet);
  return [...envs, ...extra, ...shared];
}
