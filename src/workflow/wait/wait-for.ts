import { CiloError } from "../../core/errors.ts";
import { parseDuration } from "../duration.ts";
import type { WaitAction } from "../types.ts";
import { type EnvContainers, exitStrategy, failedServiceGuard, healthStrategy, logStrategy } from "./container-strategies.ts";
import { httpStrategy } from "./http-strategy.ts";
import type { CiloDns } from "./resolve-host.ts";
import { tcpStrategy } from "./tcp-strategy.ts";
import type { WaitStrategy } from "./wait-strategy.ts";

const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_INTERVAL_MS = 1_000;

/** What a `wait` step can reach: the env's containers (when there is an env) and cilo's DNS. */
export interface WaitTarget {
  env?: EnvContainers;
  dns?: CiloDns;
}

/**
 * Waits until every condition of a `wait` step holds (all checked at the same time), within its
 * `timeout` (default 2m), checking every `interval` (default 1s). While it waits, a service of
 * the env that exits non-zero or restarts fails the wait at once.
 */
export async function waitFor(action: WaitAction, target: WaitTarget, signal: AbortSignal): Promise<void> {
  const timeoutMs = action.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(action.timeout);
  const intervalMs = action.interval === undefined ? DEFAULT_INTERVAL_MS : Math.max(10, parseDuration(action.interval));
  const strategies = strategiesOf(action, target);
  const stop = new AbortController();
  const both = AbortSignal.any([signal, stop.signal]);
  const budget = { deadline: Date.now() + timeoutMs, intervalMs, signal: both };
  const waits = Promise.all(strategies.map((s) => s.waitUntilReady(budget)));
  const guard = target.env ? failedServiceGuard(target.env, action.exit ? [action.exit.service] : []).waitUntilReady(budget) : undefined;
  // Whichever settles first decides; the other is stopped below and its rejection is expected.
  waits.catch(() => {});
  guard?.catch(() => {});
  try {
    await (guard ? Promise.race([waits, guard]) : waits);
  } finally {
    stop.abort();
  }
}

function strategiesOf(action: WaitAction, target: WaitTarget): WaitStrategy[] {
  const env = (what: string): EnvContainers => {
    if (target.env) return target.env;
    throw new CiloError("E_NO_ENV", `Waiting for ${what} needs an env; add a create step before this one`);
  };
  const out: WaitStrategy[] = [];
  if (action.healthy !== undefined && action.healthy !== false) {
    out.push(healthStrategy(env("healthy services"), action.healthy === true ? undefined : action.healthy));
  }
  if (action.http !== undefined) out.push(httpStrategy(typeof action.http === "string" ? { url: action.http } : action.http, target.dns));
  if (action.tcp !== undefined) out.push(tcpStrategy(action.tcp, target.dns));
  if (action.log !== undefined) out.push(logStrategy(env(`a log line of ${action.log.service}`), action.log.service, action.log.line));
  if (action.exit !== undefined) out.push(exitStrategy(env(`${action.exit.service} to exit`), action.exit.service, action.exit.code ?? 0));
  return out;
}
