import { readState, type StateHome } from "../state/store.ts";
import { type ApplyResult, applyDnsFrom, type DnsOptions } from "./dnsmasq.ts";
import { dnsEnvsFromState, dnsOptionsFromState, gatewayDnsAddressFor } from "./from-state.ts";

/**
 * Applies the DNS that the current state renders to. The state is read under the DNS lock, so
 * when several cilo processes change envs at once the last one to apply sees every change.
 */
export function syncDnsWithState(at: StateHome, start: DnsOptions["start"] = "always"): Promise<ApplyResult> {
  return applyDnsFrom(at, () => {
    const state = readState(at);
    return { envs: dnsEnvsFromState(state, gatewayDnsAddressFor(at.env)), options: { ...dnsOptionsFromState(state, at), start } };
  });
}
