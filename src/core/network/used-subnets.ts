import { envIndex } from "../state/layout.ts";
import type { State } from "../state/schema.ts";

/**
 * Every subnet cilo's state holds: envs' (their own and their extra ones) and shared instances'.
 * `except.env` leaves out that env's own subnet (not its extra ones).
 */
export function stateSubnets(state: State, except?: { env?: string }): string[] {
  const index = envIndex(state); // the index: no env record is read
  const envs = Object.entries(index)
    .filter(([key]) => key !== except?.env)
    .map(([, e]) => e.subnet);
  const extra = Object.values(index).flatMap((e) => Object.values(e.extra_subnets ?? {}));
  const shared = Object.values(state.shared ?? {}).map((s) => s.subnet);
  return [...envs, ...extra, ...shared];
}
