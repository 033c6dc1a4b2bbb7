import { durationMs } from "../duration.ts";
import { isMapping, labelMap } from "./model-shape.ts";

/** A service label that asks `destroy` to give its containers this long to stop (a duration: `10s`, `1m`, `30`). */
export const LABEL_STOP_TIMEOUT = "cilo.stop-timeout";

/** What a service with an unreadable grace gets: compose's own default, the safe side. */
const FALLBACK_SECONDS = 10;

/**
 * The services of a compose model that asked for time to stop, by whole seconds: the label
 * `cilo.stop-timeout`, else compose's `stop_grace_period`. `destroy` stops these with their grace
 * and every other container at once — an env being destroyed is not coming back. A value that is
 * not a duration counts as compose's default (10 s): data is never cut short by a typo.
 */
export function stopGraces(model: unknown): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const services = isMapping(model) ? model["services"] : undefined;
  if (!isMapping(services)) return out;
  for (const name of Object.keys(services).sort()) {
    const def = services[name];
    if (!isMapping(def)) continue;
    let labels: Record<string, string> = {};
    try {
      labels = labelMap(def["labels"], `service "${name}"`);
    } catch {
      // compose validated the file; an odd label shape only means no label here.
    }
    const asked = labels[LABEL_STOP_TIMEOUT] ?? (def["stop_grace_period"] === undefined ? undefined : String(def["stop_grace_period"]));
    if (asked === undefined) continue;
    const ms = durationMs(asked);
    const seconds = ms === undefined ? FALLBACK_SECONDS : Math.ceil(ms / 1000);
    if (seconds <= 0) continue;
    out.set(seconds, [...(out.get(seconds) ?? []), name]);
  }
  return out;
}
