import type { CiloContext } from "../context/context.ts";
import { type GatewaySyncResult, syncGateway, syncLocalGateway } from "../gateway/gateway.ts";
import { type HostReach, hostReach, hostReachIn } from "../gateway/host-reach.ts";
import { remoteHost } from "../host/hosts.ts";
import type { ForwardRecord, HostResolution } from "../state/schema.ts";
import { readState } from "../state/store.ts";
import { syncForwards } from "./forwarder.ts";
import { syncTunnel } from "./tunnel.ts";

// The names and TCP forwards of an env, whichever way this machine reaches it (docs/remote.md
// "Names of remote envs", gateway/host-reach.ts): the env operations call these two and need not
// know how.

/**
 * An env's host as its operation reached it: `ctx` bound to the host's engine (`envContext`) and
 * how this machine reaches that engine's envs, from the endpoint `ctx` is bound to. An operation
 * that has it (up) passes it to both syncs below, which then neither read the state nor resolve a
 * Docker context again; one that has not (down, destroy) lets them find it.
 */
export interface ReachedHost {
  ctx: CiloContext;
  reach: HostReach;
}

/** The `ReachedHost` of an env's context on its host (`envContext`/`reachEnv`), with its host record's `resolved` (a tcp:// engine given by name): no context resolved. */
export function reachedHost(hctx: CiloContext, resolved?: HostResolution): ReachedHost {
  // A tcp:// engine given by name reaches through the address its name resolved to (the host record's `resolved`).
  return { ctx: hctx, reach: hostReach(hctx.endpoint().host, resolved) };
}

/**
 * The env's TCP forwards after `up`: forward containers on its own engine for a local env
 * (`ctx` is `local`); for an env on a host, one ssh forward (`ssh://`), or forward containers on the
 * host's engine published on the host's address (`tcp://`, ctx bound to that engine), or none
 * when this machine does not reach the host's address.
 */
export async function syncEnvForwards(
  local: CiloContext,
  ctx: CiloContext,
  key: string,
  host: string | undefined,
  reached?: ReachedHost,
): Promise<ForwardRecord[]> {
  if (host === undefined) return syncForwards(ctx, key);
  const reach = reached?.reach ?? hostReachIn(local, readState(local), host);
  if (reach.via === "ssh-forward") return syncTunnel(local, key);
  if (reach.via === "remote-gateway") return syncForwards(ctx, key);
  return [];
}

/**
 * The gateways an env's names go through, after the env changed (up, down, destroy): this
 * machine's; for an env on a host reached through its own gateway (`tcp://`), that host's gateway
 * too (started while one of its envs runs, removed when none does). This machine's gateway for an
 * env on a host is optional: a machine without an engine of its own has no HTTP names for it.
 */
export async function syncEnvGateways(local: CiloContext, host: string | undefined, reached?: ReachedHost): Promise<GatewaySyncResult> {
  if (host === undefined) return syncGateway(local);
  const hctx = reached ? (reached.reach.via === "remote-gateway" ? reached.ctx : undefined) : remoteGatewayContext(local, host);
  if (!hctx) return syncLocalGateway(local);
  // The two engines are independent (each gateway has its own lock): both at once, so a first up
  // waits for the slower one instead of the sum. The host's gateway's failure is reported first.
  const [remote, mine] = await Promise.allSettled([syncGateway(hctx, { host }), syncLocalGateway(local)]);
  if (remote.status === "rejected") throw remote.reason;
  if (mine.status === "rejected") throw mine.reason;
  return mine.value;
}

/**
 * For an operation that has not reached the env's host (down, destroy): a context on the host's
 * engine, from the state now, when its envs' names go through its own gateway; else undefined.
 */
function remoteGatewayContext(local: CiloContext, host: string): CiloContext | undefined {
  const state = readState(local);
  if (hostReachIn(local, state, host).via !== "remote-gateway") return undefined;
  return local.forEndpoint(remoteHost(local, state, host).endpoint);
}
