import type { CiloContext } from "../context/context.ts";
import { messageOf } from "../errors.ts";
import type { EnvRecord, State } from "../state/schema.ts";
import { dnsSuffix } from "../dns-names.ts";
import { envKeysNamed, envKeysWhere, forEachIndexLite } from "../state/layout.ts";
import { readState, type StateHome } from "../state/store.ts";
import type { ApplyResult, DnsOptions } from "./dnsmasq.ts";

/*
 * cilo's DNS (docs/dns.md) in four verbs, and which to call when:
 *
 * | verb                               | does                                                            | call it                                          |
 * | ---------------------------------- | --------------------------------------------------------------- | ------------------------------------------------ |
 * | `renderDns` (dnsmasq.ts)           | pure: state's envs → dnsmasq config, hosts files, wildcards      | to show (`cilo dns render`), in tests            |
 * | `applyDns`/`applyDnsFrom` (dnsmasq)| writes the files, starts, HUPs or switches dnsmasq               | never directly from an operation: through sync   |
 * | `syncDnsWithState` (here)          | reads state under the DNS lock and applies it; throws            | `cilo dns start`, doctor fixes, the reaper       |
 * | `syncEnvDns` (here)                | the same for one env's change, reading only that env's record    | through refreshDns                               |
 * | `refreshDns` (here)                | env sync after an env operation; a failure is only a warning     | at the end of up/down/destroy/hostnames          |
 *
 * And before an operation records names: `checkDnsNames` refuses a collision with another env.
 * dnsmasq.ts, render.ts and from-state.ts load lazily: commands that never touch DNS stay light.
 */

/**
 * Applies the DNS that the current state renders to, every env. The state is read under the DNS
 * lock, so when several cilo processes change envs at once the last one to apply sees every change.
 */
export async function syncDnsWithState(at: StateHome, start: DnsOptions["start"] = "always"): Promise<ApplyResult> {
  const [{ applyDnsFrom }, { dnsBasisOf, dnsEnvsFromState, dnsOptionsFromState, gatewayDnsAddressFor }] = await Promise.all([
    import("./dnsmasq.ts"),
    import("./from-state.ts"),
  ]);
  return applyDnsFrom(at, () => {
    const state = readState(at);
    const gateway = gatewayDnsAddressFor(at.env);
    return { envs: dnsEnvsFromState(state, gateway), options: { ...dnsOptionsFromState(state, at), start, basis: dnsBasisOf(state, gateway) } };
  });
}

/**
 * Applies the change of one env (`<project>/<env>`): its names only, at a cost that does not grow
 * with the number of envs (docs/dns.md, "One env's change"). Its record and the index are read
 * under the DNS lock, so the last process to apply an env serves that env's latest record; falls
 * back to the full sync when what runs is not known to match the last apply.
 */
export async function syncEnvDns(at: StateHome, key: string): Promise<ApplyResult> {
  const [{ applyEnvDnsFrom }, { dnsBasisOf, dnsEnvFromState, dnsEnvsFromState, dnsOptionsFromState, gatewayDnsAddressFor, servedSuffixesFromIndex }] =
    await Promise.all([import("./dnsmasq.ts"), import("./from-state.ts")]);
  const slash = key.indexOf("/");
  return applyEnvDnsFrom(at, () => {
    const state = readState(at);
    const gateway = gatewayDnsAddressFor(at.env);
    const served = dnsEnvFromState(state, key, gateway);
    return {
      change: { project: key.slice(0, slash), env: key.slice(slash + 1), ...(served ? { served } : {}), suffixes: servedSuffixesFromIndex(state) },
      options: { ...dnsOptionsFromState(state, at), start: "when-needed", basis: dnsBasisOf(state, gateway) },
      all: () => dnsEnvsFromState(state, gateway),
    };
  });
}

/**
 * Refuses an env whose DNS names would answer a different IP than another env's for the same
 * name (SPEC §5), before anything changes. The env's services get placeholder addresses of their
 * own, so any shared name is a collision whatever IPs Docker later hands out.
 */
export async function checkDnsNames(candidate: EnvRecord, state: State): Promise<void> {
  const { planDns } = await import("./render.ts");
  const { dnsEnvsFromState } = await import("./from-state.ts");
  // Judged with each env's own addresses: in gateway routing every name answers one address.
  const others: State = { ...state, config: { ...state.config, routing: "direct" }, envs: mayCollide(candidate, state) };
  const placeholder = {
    ...candidate,
    status: "running" as const,
    services: candidate.services.map((s, i) => ({ ...s, ip: `0.0.${Math.floor(i / 250)}.${(i % 250) + 1}` })),
  };
  others.envs[`${candidate.project}/${candidate.name}`] = placeholder;
  planDns(dnsEnvsFromState(others));
}

/**
 * The running envs whose names could equal one of `candidate`'s, read from the index: every name
 * of an env ends in `.<env>.<suffix>` (its tail), so two envs share a name only when one tail
 * ends with the other. Only their records are read, not every env's (docs/state.md, "Layout").
 */
function mayCollide(candidate: EnvRecord, state: State): Record<string, EnvRecord> {
  const suffixes = new Map<string | undefined, string>(); // a handful of distinct suffixes: each normalised once
  const tail = (env: string, suffix: string | undefined) => {
    let s = suffixes.get(suffix);
    if (s === undefined) {
      try {
        s = dnsSuffix(suffix ?? state.config.dns_suffix);
      } catch {
        s = String(suffix); // invalid: planDns names the problem if the env is read
      }
      suffixes.set(suffix, s);
    }
    return `.${env}.${s}`.toLowerCase();
  };
  const mine = tail(candidate.name, candidate.dns_suffix);
  const self = `${candidate.project}/${candidate.name}`;
  const collides = (key: string, e: { status: string; dns_suffix?: string }) => {
    if (key === self || e.status !== "running") return false;
    const theirs = tail(key.slice(key.indexOf("/") + 1), e.dns_suffix);
    return theirs.endsWith(mine) || mine.endsWith(theirs);
  };
  // The envs without a suffix of their own have the tail `.<env><machine>`: when `mine` ends with
  // `<machine>` only the envs named as its label before it can collide; when `<machine>` ends with
  // `mine` every one can (read them all); else none. Envs with their own suffix are looked at each.
  const machine = tail("x", undefined).slice(2);
  const named =
    mine.endsWith(machine) && mine.length > machine.length
      ? mine.slice(mine.lastIndexOf(".", mine.length - machine.length - 1) + 1, -machine.length)
      : undefined;
  let keys: string[];
  if (machine.endsWith(mine)) {
    keys = [];
    forEachIndexLite(state, (key, e) => {
      if (collides(key, e)) keys.push(key);
    });
  } else {
    keys = [...new Set([...(named ? envKeysNamed(state, named) : []), ...envKeysWhere(state, ',"dns_suffix":"', (e) => e.dns_suffix !== undefined)])];
  }
  const out: Record<string, EnvRecord> = {};
  for (const key of keys) {
    const rec = state.envs[key];
    if (rec && collides(key, rec)) out[key] = rec;
  }
  return out;
}

/**
 * Loads what `refreshDns` needs (its modules load lazily) without running anything: for an
 * operation that waits on something else first (up, while compose runs), so that the DNS step
 * after it does not wait for the modules to compile.
 */
export function preloadDns(): void {
  Promise.all([import("./dnsmasq.ts"), import("./from-state.ts")]).catch(() => {});
}

/**
 * Renders the DNS served by cilo's dnsmasq from state and applies it (hosts files replaced
 * atomically, the wildcard instance switched only when wildcards change). With `envKey` (the
 * env an operation changed) only that env's names are rendered and applied (`syncEnvDns`);
 * without, every env's (a change that is not one env's, e.g. the routing mode). A DNS failure
 * does not undo the env operation that called it: it is reported as a warning and `cilo doctor`
 * shows it.
 */
export async function refreshDns(ctx: CiloContext, envKey?: string): Promise<boolean> {
  try {
    if (envKey !== undefined) await syncEnvDns(ctx, envKey);
    else await syncDnsWithState(ctx, "when-needed");
    return true;
  } catch (e) {
    ctx.log.warn(`DNS was not updated: ${messageOf(e)}`);
    return false;
  }
}
