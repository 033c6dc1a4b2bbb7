import { hostnameProblem, isLocalIPv4, tcpHostPart } from "../host-address.ts";
import { isIPv4 } from "../ip.ts";
import type { CiloContext } from "../context/context.ts";
import { hostEndpoint } from "../host-endpoint.ts";
import type { HostResolution, State } from "../state/schema.ts";

// How this machine reaches the names and TCP forwards of envs on a host (docs/remote.md "Names of
// remote envs"): the one answer the gateway's routes, the forwards, DNS and the env views ask for,
// so they cannot disagree. Pure: the caller resolves a Docker context to its address first.

export type HostReach =
  /** `ssh://`: one `ssh -N -L` per env (forward/tunnel.ts) whose sockets this machine's gateway dials. */
  | { via: "ssh-forward" }
  /**
   * `tcp://<IPv4>:<port>`: the host's engine publishes a gateway and the env's TCP forward
   * containers on `address` (the address this machine reaches the engine at, over the mesh);
   * this machine's gateway sends the env's names there.
   */
  | { via: "remote-gateway"; address: string }
  /** Neither: the env has no names or TCP forwards here; `why` says so in one sentence. */
  | { via: "none"; why: string };

/**
 * The reach of a host whose engine is at `address` (a resolved endpoint host). A `tcp://` host is
 * reached at its own address only when that is an IPv4 address this machine can route to: given as
 * one, or a host name (RFC 1123) that `resolved` (what the system resolver answered at `host add`,
 * `host check` or the last command that reached the host's engine: host/resolve-name.ts) maps to
 * one; never a loopback or unspecified address (the host's loopback is not this machine's: a TLS
 * proxy or tunnel in front of the engine), as given or as resolved.
 */
export function hostReach(address: string, resolved?: HostResolution): HostReach {
  if (address.startsWith("ssh://")) return { via: "ssh-forward" };
  const host = tcpHostPart(address);
  if (host === undefined) return { via: "none", why: `its engine address ${address.slice(0, 80)} is neither ssh:// nor tcp://<IPv4 address or name>:<port>` };
  if (isIPv4(host)) return isLocalIPv4(host) ? loopback(host, host) : { via: "remote-gateway", address: host };
  if (host.startsWith("[")) return { via: "none", why: `its engine address names ${host.slice(0, 60)}, not an IPv4 address its gateway could publish on` };
  const bad = hostnameProblem(host);
  if (bad) return { via: "none", why: `its engine address is not usable: ${bad}` };
  if (resolved?.name !== host) return { via: "none", why: `its engine name ${host} has not been resolved to an address yet (cilo host check resolves it)` };
  if (resolved.ipv4 === undefined)
    return { via: "none", why: `its engine name ${host} does not resolve to an IPv4 address (${resolved.error ?? "no answer"})` };
  return isLocalIPv4(resolved.ipv4)
    ? loopback(resolved.ipv4, `${host}, which resolves to ${resolved.ipv4},`)
    : { via: "remote-gateway", address: resolved.ipv4 };
}

function loopback(ip: string, what: string): HostReach {
  return { via: "none", why: `its engine address ${what} is ${ip === "0.0.0.0" ? "unspecified" : "a loopback of this machine"}, not the host's own address` };
}

/**
 * The reach of every host of `state`, by name, from the recorded addresses; a host recorded as a
 * Docker context is looked up with `resolve` (its context's address now), and one that does not
 * resolve has no reach.
 */
export function hostReaches(state: Pick<State, "hosts">, resolve: (name: string) => string): Map<string, HostReach> {
  const out = new Map<string, HostReach>();
  for (const [name, rec] of Object.entries(state.hosts ?? {})) {
    let address = rec.address;
    if (address === undefined) {
      try {
        address = resolve(name);
      } catch {
        out.set(name, { via: "none", why: `its Docker context ${rec.context ?? ""} does not resolve` });
        continue;
      }
    }
    out.set(name, hostReach(address, rec.resolved));
  }
  return out;
}

/** The reach of the env's host in `reaches`; a host missing there (state changed meanwhile) has none. */
export function reachOf(reaches: ReadonlyMap<string, HostReach>, host: string): HostReach {
  return reaches.get(host) ?? { via: "none", why: `the host ${host} is not recorded` };
}

/**
 * The reach of the one host `name` of `state`, as `reachOf(hostReachesFor(ctx, state), name)` gives it
 * but without resolving the other hosts' Docker contexts: for an operation on one env.
 */
export function hostReachIn(ctx: Pick<CiloContext, "env">, state: Pick<State, "hosts">, name: string): HostReach {
  const rec = state.hosts && Object.hasOwn(state.hosts, name) ? state.hosts[name] : undefined;
  return reachOf(rec ? hostReachesFor(ctx, { hosts: { [name]: rec } }) : new Map(), name);
}

/** `hostReaches` with each Docker context resolved as every env operation resolves it (`hostEndpoint`). */
export function hostReachesFor(ctx: Pick<CiloContext, "env">, state: Pick<State, "hosts">): Map<string, HostReach> {
  return hostReaches(state, (name) => hostEndpoint(ctx, name, state.hosts![name]!).host);
}
