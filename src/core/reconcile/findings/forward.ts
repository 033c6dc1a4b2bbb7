import { syncForwards } from "../../forward/forwarder.ts";
import { syncTunnel } from "../../forward/tunnel.ts";
import { syncLocalGateway } from "../../gateway/gateway.ts";
import { envKey } from "../../state/schema.ts";
import { defineFinding } from "./define.ts";

/** The TCP forward containers of running envs (docs/routing.md "TCP services"). */
export const FORWARD_FINDINGS = {
  "forward-missing": defineFinding({
    severity: "warning",
    target: "env",
    phase: 9,
    describe: "a running env's TCP forward container is missing or not running",
    fix: async (t, ctx) => {
      const forwards = await syncForwards(ctx, envKey(t.project, t.env));
      return `recreated its TCP forwards (${forwards.map((f) => `${f.address}:${f.host_port}`).join(", ")})`;
    },
  }),
  "tunnel-down": defineFinding({
    severity: "warning",
    target: "env",
    phase: 9,
    describe: "a running env on a host has no ssh forward, or one to old addresses, so its names and TCP forwards do not answer here",
    fix: async (t, ctx) => {
      const forwards = await syncTunnel(ctx, envKey(t.project, t.env));
      await syncLocalGateway(ctx);
      return `started its ssh forward again${forwards.length > 0 ? ` (TCP ${forwards.map((f) => `${f.address}:${f.host_port}`).join(", ")})` : ""}`;
    },
  }),
};
