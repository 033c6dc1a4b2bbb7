import { randomBytes } from "node:crypto";
import type { RoutingProbe, StateConfig } from "../state/schema.ts";

/** How `.test` names are answered now, and why (`cilo doctor`, docs/routing.md "Modes"). */
export interface EffectiveRouting {
  mode: "direct" | "gateway";
  why: string;
}

/**
 * The routing in force: `direct` or `gateway` as set with `cilo init --routing`; for `auto` (the
 * default) what the probe found: `gateway` when this host could not reach a container IP, else
 * `direct` (also before any probe: the gateway has not run yet, so there is nothing to send
 * names to).
 */
export function effectiveRouting(config: Pick<StateConfig, "routing" | "routing_probe">): EffectiveRouting {
  const set = config.routing ?? "auto";
  if (set !== "auto") return { mode: set, why: `set with cilo init --routing ${set}` };
  const p = config.routing_probe;
  if (!p) return { mode: "direct", why: "auto: not probed yet (the probe runs when the gateway first starts)" };
  return p.reachable
    ? { mode: "direct", why: `auto: this host reaches container IPs (${p.target} answered, ${p.at})` }
    : { mode: "gateway", why: `auto: this host cannot reach container IPs of ${p.endpoint} (${p.target} did not answer, ${p.at})` };
}

/** Whether `auto` routing must probe (again): never probed, or probed against another engine. */
export function needsProbe(config: Pick<StateConfig, "routing" | "routing_probe">, endpoint: string): boolean {
  return (config.routing ?? "auto") === "auto" && config.routing_probe?.endpoint !== endpoint;
}

/**
 * Whether this host reaches the gateway at `ip:port`: an HTTP request for a name no env has must
 * come back as the gateway's own 404 page, which repeats the name. A bare TCP connect is not
 * proof: another engine on this host may run something else at the same private address.
 */
export async function gatewayAnswersAt(ip: string, port: number, timeoutMs = 1_500): Promise<boolean> {
  const name = `probe-${randomBytes(6).toString("hex")}.cilo.invalid`;
  // Loaded here: DNS rendering imports this module, and `cilo list` must not pay for node:http.
  const { request } = await import("node:http");
  return new Promise((resolve) => {
    const req = request({ host: ip, port, path: "/", headers: { host: name }, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        if (body.length < 4096) body += d;
      });
      res.on("end", () => resolve(res.statusCode === 404 && body.includes(name)));
      res.on("error", () => resolve(false));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}

export function probeRecord(endpoint: string, target: string, reachable: boolean, at: Date): RoutingProbe {
  return { endpoint, target, reachable, at: at.toISOString() };
}
