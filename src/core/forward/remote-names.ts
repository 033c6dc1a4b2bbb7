import type { CiloContext } from "../context/context.ts";
import { type GatewaySyncResult, syncGateway, syncLocalGateway } from "../gateway/gateway.ts";
import { hostReachesFor, reachOf } from "../gateway/host-reach.ts";
import { remoteHost } from "../host/hosts.ts";
import type { ForwardRecord } from "../state/schema.ts";
import { readState } from "../state/store.ts";
import { syncForwards } from "./forwarder.ts";
import { syncTunnel } from "./tunnel.ts";

// The names and TCP forwards of an env, whichever way this machine reaches it (docs/remote.md
// "Names of remote envs", gateway/host-reach.ts): the env operations call these two and need not
// know how.

/**
 * The env's TCP forwards after `up`: forward containers on its own engine for a local env
 * (`ctx` is `local`); for an env on a host, one ssh forward (`ssh://`), or forward containers on the
 * host's engine published on the host's address (`tcp://`, ctx bound to that engine), or none
 * when this machine does not reach the host's address.
 */
export async function syncEnvForwards(local: CiloContext, ctx: CiloContext, key: string, host: string | undefined): Promise<ForwardRecord[]> {
  if (host === undefined) return syncForwards(ctx, key);
  const reach = reachOf(hostReachesFor(local, readState(local)), host);
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
export async function syncEnvGateways(local: CiloContext, host: string | undefined): Promise<GatewaySyncResult> {
  if (host === undefined) return syncGateway(local);
  const state = readState(local);
  if (!state.hosts?.[host] || reachOf(hostReachesFor(local, state), host).via !== "remote-gateway") return syncLocalGateway(local);
  // The two engines are independent (each gateway has its own lock): both at once, so a first up
  // waits for the slower one instead of the sum. The host's gateway's failure is reported first.
  const [remote, mine] = await Promise.allSettled([syncGateway(local.forEndpoint(remoteHost(local, state, host).endpoint), { host }), syncLocalGateway(local)]);
  if (remote.status === "rejected") throw remote.reason;
  if (mine.status === "rejected") throw mine.reason;
  return mine.value;
}
