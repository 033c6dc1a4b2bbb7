import { ciloHome } from "../paths.ts";
import { readState } from "../state/store.ts";
import { type ApplyResult, applyDnsFrom, type DnsOptions } from "./dnsmasq.ts";
import { dnsEnvsFromState, dnsOptionsFromState } from "./from-state.ts";

/**
 * Applies the DNS that the current state renders to. The state is read under the DNS lock, so
 * when several cilo processes change envs at once the last one to apply sees every change.
 */
export function syncDnsWithState(home = ciloHome(), start: DnsOptions["start"] = "always"): Promise<ApplyResult> {
  return applyDnsFrom(home, () => {
    const state = readState(home);
    return { envs: dnsEnvsFromState(state), options: { ...dnsOptionsFromState(state, home), start } };
  });
}
