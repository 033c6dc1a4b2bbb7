import type { State } from "../state/schema.ts";

/** Every subnet cilo's state holds: envs' and shared instances'. */
export function stateSubnets(state: State, except?: { env?: string }): string[] {
  const envs = Object.entries(state.envs)
    .filter(([key]) => key !== except?.env)
    .map(([, e]) => e.subnet);
  const shared = Object.values(state.shared ?? {}).map((s) => s.subnet);
  return [...envs, ...shared];
}
