import { LABEL_HOSTNAMES, LABEL_INGRESS, LABEL_SERVICE } from "../labels.ts";
import type { ProjectConfig } from "../config/project-config.ts";
import type { ServiceRecord } from "../state/schema.ts";
import type { ContainerState } from "../runtime/provider.ts";
import { serviceLabelsOf } from "../compose/model-shape.ts";

/** Service names that are ingress unless told otherwise (SPEC §4). */
export const INGRESS_NAMES = ["nginx", "web", "app", "frontend", "traefik", "caddy"];

/**
 * The services of a resolved compose model with their DNS facts: custom hostnames (label
 * `cilo.hostnames` and the config's `hostnames`) and which one is the ingress (label
 * `cilo.ingress`, else the config's `ingress`, else the first service with a conventional name).
 */
export function serviceRecordsFromModel(model: Record<string, unknown>, config: ProjectConfig): ServiceRecord[] {
  const services = (model["services"] ?? {}) as Record<string, unknown>;
  const names = Object.keys(services).sort();
  const labels = new Map(names.map((n) => [n, serviceLabelsOf(model, n)]));
  const labelled = names.filter((n) => /^(true|1|yes)$/i.test(labels.get(n)?.[LABEL_INGRESS] ?? ""));
  let ingress: string | undefined = labelled[0] ?? (config.ingress && names.includes(config.ingress) ? config.ingress : undefined);
  if (!ingress) ingress = INGRESS_NAMES.find((n) => names.includes(n));
  return names.map((name) => {
    const fromLabel = (labels.get(name)?.[LABEL_HOSTNAMES] ?? "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    const fromConfig = (config.hostnames?.[name] ?? []).map((s) => s.trim().toLowerCase());
    const hostnames = [...new Set([...fromLabel, ...fromConfig])].sort();
    return { name, ...(hostnames.length > 0 ? { hostnames } : {}), ...(name === ingress ? { ingress: true } : {}) };
  });
}

/**
 * Merges what Docker reports (state, health, IP on the env network) into the service records.
 * Services without a container are reported as "missing".
 */
export function mergeRuntime(services: ServiceRecord[], containers: ContainerState[], network: string): ServiceRecord[] {
  const byService = new Map<string, ContainerState>();
  for (const c of containers) {
    const svc = c.labels[LABEL_SERVICE] ?? c.labels["com.docker.compose.service"];
    if (!svc) continue;
    const prev = byService.get(svc);
    // With several replicas, prefer a running one.
    if (!prev || (prev.state !== "running" && c.state === "running")) byService.set(svc, c);
  }
  return services.map((s) => {
    const c = byService.get(s.name);
    const { state: _s, health: _h, ip: _i, ...rest } = s;
    if (!c) return { ...rest, state: "missing" };
    const ip = c.ips[network];
    return { ...rest, state: c.state, ...(c.health ? { health: c.health } : {}), ...(ip ? { ip } : {}) };
  });
}
