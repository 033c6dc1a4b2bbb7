import type { CiloContext } from "../context/context.ts";
import { hostEndpoint } from "../host-endpoint.ts";
import { findHost, pingHost } from "../host/hosts.ts";
import type { EnvRecord } from "../state/schema.ts";
import { readState } from "../state/store.ts";
import { refreshHostResolution } from "../host/resolve-name.ts";

/**
 * The context an env's operations run on: `ctx` itself for an env of the local engine, else
 * `ctx` bound to its host's engine (`ctx.forEndpoint`), so the provider, the compose runner and
 * `endpoint()` all reach that host (docs/remote.md). The one place an env's engine is chosen: every
 * env operation (up, down, destroy, status, logs, exec, run, doctor, gc) goes through it.
 */
export function envContext(ctx: CiloContext, rec: Pick<EnvRecord, "host">): CiloContext {
  if (!rec.host) return ctx;
  const host = findHost(readState(ctx), rec.host);
  return ctx.forEndpoint(hostEndpoint(ctx, rec.host, host));
}

/**
 * `envContext`, and for an env on a host its engine asked first (its name resolved again first when
 * it is a `tcp://` host given by name, and the answer recorded if it changed): a host that does not
 * answer is the one-line exit 3 of `cilo host check` (E_HOST_UNREACHABLE, naming the host), before
 * the operation records anything else. `made`: the env's context made already (`up` starts compose
 * on it before asking).
 */
export async function reachEnv(ctx: CiloContext, rec: Pick<EnvRecord, "host">, made?: CiloContext): Promise<CiloContext> {
  if (!rec.host) return ctx;
  // A tcp:// engine given by name is resolved again now (host/resolve-name.ts): what the Docker
  // client is about to connect to is what the gateway and forwards publish on.
  const host = await refreshHostResolution(ctx, rec.host, findHost(readState(ctx), rec.host));
  const hctx = made ?? ctx.forEndpoint(hostEndpoint(ctx, rec.host, host));
  await pingHost(hctx, rec.host, hctx.endpoint(), host.resolved);
  return hctx;
}
