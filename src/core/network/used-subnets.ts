import { envIndex } from "../state/layout.ts";
import type { State } from "../state/schema.ts";

/**
 * Every subnet cilo's state holds: envs' (their own and their extra ones) and shared instances'.
 * `except.env` leaves out that env's own subnet (not its extra ones). `host` keeps only the envs
 * on that host's engine (`null`: the local engine, whose shared instances count too): subnets are
 * allocated per host, two engines may each use one (docs/remote.md). Absent: every env.
 */
export function stateSubnets(state: State, except?: { env?: string; host?: string | null }): string[] {
  const index = envIndex(state); // the index: no env record is read
  const onHost = (e: { host?: string }) => except?.host === undefined || (e.host ?? null) === except.host;
  const envs = Object.entries(index)
    .filter(([key, e]) => key !== except?.env && onHost(e))
    .map(([, e]) => e.subnet);
  const extra = Object.values(index)
    .filter(onHost)
    .flatMap((e) => Object.values(e.extra_subnets ?? {}));
  const shared = except?.host ? [] : Object.values(state.shared ?? {}).map((s) => s.subnet);
  return [...envs, ...extra, ...shared];
}
