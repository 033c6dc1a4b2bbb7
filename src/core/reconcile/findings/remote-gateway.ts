import { reachEnv } from "../../env/env-context.ts";
import { CiloError } from "../../errors.ts";
import { syncEnvForwards, syncEnvGateways } from "../../forward/remote-names.ts";
import { envKey } from "../../state/schema.ts";
import { readState } from "../../state/store.ts";
import { defineFinding } from "./define.ts";

/**
 * What cilo runs on a `tcp://` host's engine so that this machine reaches the names and TCP
 * forwards of that host's envs (docs/remote.md "Names of envs on a tcp:// host"): the host's
 * gateway and the env's forward containers, published on the host's address.
 */
export const REMOTE_GATEWAY_FINDINGS = {
  "remote-gateway-down": defineFinding({
    severity: "warning",
    target: "env",
    phase: 9,
    describe: "a running env on a tcp:// host whose gateway or TCP forward containers on that host's engine are missing or not running",
    fix: async (t, ctx) => {
      const key = envKey(t.project, t.env);
      const rec = readState(ctx).envs[key];
      if (!rec?.host) throw new CiloError("E_NO_FIX", `${key} is no longer an env on a host`);
      // As `cilo up` does after compose (up-env.ts): the env's forwards first, then both gateways.
      const hctx = await reachEnv(ctx, rec);
      const forwards = await syncEnvForwards(ctx, hctx, key, rec.host);
      await syncEnvGateways(ctx, rec.host);
      const tcp = forwards.length > 0 ? ` and its TCP forwards (${forwards.map((f) => `${f.address}:${f.host_port}`).join(", ")})` : "";
      return `synced the gateway on host ${rec.host}${tcp}`;
    },
  }),
};
