import { syncGateway } from "../../gateway/gateway.ts";
import type { CiloContext } from "../../context/context.ts";
import { defineFinding } from "./define.ts";

/** Syncing the gateway with the state once fixes both gateway findings. */
const GATEWAY_GROUP = { name: "gateway", done: "the gateway was synced with the state" };

/** This home's gateway container (docs/routing.md). */
export const GATEWAY_FINDINGS = {
  "gateway-missing": defineFinding({
    severity: "warning",
    target: "component",
    phase: 9,
    group: GATEWAY_GROUP,
    describe: "envs run but this home's gateway container is missing or not running",
    fix: applyGateway,
  }),
  "gateway-unneeded": defineFinding({
    severity: "warning",
    target: "component",
    phase: 9,
    group: GATEWAY_GROUP,
    describe: "this home's gateway container exists though no env has a route",
    fix: applyGateway,
  }),
};

async function applyGateway(_t: unknown, ctx: CiloContext): Promise<string> {
  const r = await syncGateway(ctx);
  return r.action === "created" ? "recreated the gateway with the state's routes" : r.action === "removed" ? "removed the gateway" : `gateway: ${r.action}`;
}
