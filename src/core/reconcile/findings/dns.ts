import { stopDns, stopStrayDnsmasq } from "../../dns/dnsmasq.ts";
import { syncDnsWithState } from "../../dns/dns.ts";
import { defineFinding, type FixContext } from "./define.ts";

/** Applying the state's DNS once fixes every DNS finding. */
const DNS_GROUP = { name: "dns", done: "DNS was applied from the state" };

/** cilo's dnsmasq and the system resolver. */
export const DNS_FINDINGS = {
  "dns-not-answering": defineFinding({
    severity: "error",
    target: "component",
    phase: 9,
    group: DNS_GROUP,
    describe: "cilo's dnsmasq runs but does not answer on its port",
    fix: async (_t, ctx) => {
      await stopDns(ctx);
      await syncDnsWithState(ctx);
      return "restarted cilo's dnsmasq";
    },
  }),
  "dns-not-running": defineFinding({
    severity: "warning",
    target: "component",
    phase: 9,
    group: DNS_GROUP,
    describe: "cilo's dnsmasq is not running while an env runs",
    fix: applyDns,
  }),
  "dns-out-of-sync": defineFinding({
    severity: "warning",
    target: "component",
    phase: 9,
    group: DNS_GROUP,
    describe: "what dnsmasq serves is not what the state renders to",
    fix: applyDns,
  }),
  "dns-stray": defineFinding({
    severity: "warning",
    target: "component",
    phase: 9,
    describe: "a dnsmasq of this home runs that its dns folder does not record",
    fix: async (_t, ctx) => {
      const stopped = await stopStrayDnsmasq(ctx);
      return stopped.length === 0 ? "none was left to stop" : `stopped ${stopped.map((p) => `pid ${p.pid}`).join(", ")}`;
    },
  }),
  "resolver-not-set-up": defineFinding({
    severity: "info",
    target: "component",
    phase: 10,
    describe: "the system resolver does not send the suffixes to cilo",
  }),
};

async function applyDns(_t: unknown, ctx: FixContext): Promise<string> {
  await syncDnsWithState(ctx);
  return "applied the DNS the state renders to";
}
