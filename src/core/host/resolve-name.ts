import type { CiloContext } from "../context/context.ts";
import { messageOf } from "../errors.ts";
import { hostnameProblem, tcpHostPart } from "../host-address.ts";
import { hostEndpoint } from "../host-endpoint.ts";
import type { HostRecord, HostResolution } from "../state/schema.ts";
import { withState } from "../state/store.ts";

// A `tcp://` host given by name (docs/remote.md "Names of envs on a tcp:// host"): its gateway and
// forwards publish on the IPv4 address the name resolves to. Resolved with the system resolver
// whenever cilo talks to the host's engine (host add, host check, every env command that reaches
// the host: env/env-context.ts `reachEnv`), which resolves the same name at that moment anyway,
// and recorded in the host's record, so that commands that do not talk to it (list, DNS, the routes
// of this machine's gateway re-rendered by a local env's up) read the same address without a lookup.

/** A resolver that has not answered by then is a failure to resolve (glibc may retry for tens of seconds). */
export const RESOLVE_TIMEOUT_MS = 5_000;

/**
 * What the host name of `engineHost` (`tcp://<name>:<port>`) resolves to now, as a record entry;
 * undefined when it names no host name (an IP address, ssh://, a name that is not RFC 1123).
 */
export async function resolveEngineName(ctx: Pick<CiloContext, "lookupIPv4" | "clock">, engineHost: string): Promise<HostResolution | undefined> {
  const name = tcpHostPart(engineHost);
  if (name === undefined || name.startsWith("[") || /^[0-9.]+$/.test(name) || hostnameProblem(name)) return undefined;
  const at = new Date(ctx.clock.now()).toISOString();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the system resolver did not answer within ${RESOLVE_TIMEOUT_MS / 1000} s`)), RESOLVE_TIMEOUT_MS);
    });
    const ipv4 = await Promise.race([ctx.lookupIPv4(name), timeout]);
    return { name, ipv4, at };
  } catch (e) {
    const line = messageOf(e)
      .split("\n")[0]!
      .replace(/[\0-\x1f\x7f]/g, " ")
      .slice(0, 300);
    return { name, error: line || "no answer", at };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves the engine name of host `name` (`rec` as read from state) and records the answer when
 * it differs from the recorded one (under the state lock); the record to use from now on. A host
 * whose engine is not given by name is returned as it is, without a lookup or a write.
 */
export async function refreshHostResolution(ctx: CiloContext, name: string, rec: HostRecord): Promise<HostRecord> {
  let engineHost: string;
  try {
    engineHost = hostEndpoint(ctx, name, rec).host;
  } catch {
    return rec; // a Docker context that does not resolve: the endpoint check says so
  }
  const resolved = await resolveEngineName(ctx, engineHost);
  if (sameResolution(resolved, rec.resolved)) return rec;
  await withState(ctx, (state) => {
    const cur = state.hosts?.[name];
    if (!cur) return;
    if (resolved) cur.resolved = resolved;
    else delete cur.resolved;
  });
  const next: HostRecord = { ...rec };
  if (resolved) next.resolved = resolved;
  else delete next.resolved;
  return next;
}

function sameResolution(a: HostResolution | undefined, b: HostResolution | undefined): boolean {
  return a?.name === b?.name && a?.ipv4 === b?.ipv4 && a?.error === b?.error;
}
