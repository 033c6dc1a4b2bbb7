import type { CiloContext } from "../context/context.ts";
import { findHost, hostEndpoint, pingHost } from "../host/hosts.ts";
import type { EnvRecord } from "../state/schema.ts";
import { readState } from "../state/store.ts";

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
 * `envContext`, and for an env on a host its engine asked first: a host that does not answer is
 * the one-line exit 3 of `cilo host check` (E_HOST_UNREACHABLE, naming the host), before the
 * operation records anything. `hctx`: the env's context made already (`up` starts compose on it
 * before asking).
 */
export async function reachEnv(ctx: CiloContext, rec: Pick<EnvRecord, "host">, hctx = envContext(ctx, rec)): Promise<CiloContext> {
  if (hctx !== ctx) await pingHost(hctx, rec.host!, hctx.endpoint());
  return hctx;
}
