import type { CiloContext } from "../context/context.ts";
import { messageOf } from "../errors.ts";
import type { EnvRecord, State } from "../state/schema.ts";

/**
 * Refuses an env whose DNS names would answer a different IP than another env's for the same
 * name (SPEC §5), before anything changes. The env's services get placeholder addresses of their
 * own, so any shared name is a collision whatever IPs Docker later hands out.
 */
export async function checkDnsNames(candidate: EnvRecord, state: State): Promise<void> {
  const { planDns } = await import("../dns/render.ts");
  const { dnsEnvsFromState } = await import("../dns/from-state.ts");
  // Judged with each env's own addresses: in gateway routing every name answers one address.
  const others: State = { ...state, config: { ...state.config, routing: "direct" }, envs: { ...state.envs } };
  delete others.envs[`${candidate.project}/${candidate.name}`];
  const placeholder = {
    ...candidate,
    status: "running" as const,
    services: candidate.services.map((s, i) => ({ ...s, ip: `0.0.${Math.floor(i / 250)}.${(i % 250) + 1}` })),
  };
  others.envs[`${candidate.project}/${candidate.name}`] = placeholder;
  planDns(dnsEnvsFromState(others));
}

/**
 * Renders the DNS served by cilo's dnsmasq from state and applies it (hosts files replaced
 * atomically, restart only when wildcards change). A DNS failure does not undo the env
 * operation that called it: it is reported as a warning and `cilo doctor` shows it.
 */
export async function refreshDns(ctx: CiloContext): Promise<boolean> {
  try {
    const { syncDnsWithState } = await import("../dns/sync-with-state.ts");
    await syncDnsWithState(ctx, "when-needed");
    return true;
  } catch (e) {
    ctx.log.warn(`DNS was not updated: ${messageOf(e)}`);
    return false;
  }
}
