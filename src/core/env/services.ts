import { LABEL_HOSTNAMES, LABEL_INGRESS, LABEL_PORT, LABEL_SERVICE, LABEL_TCP } from "../labels.ts";
import { tcpPorts } from "../forward/ports.ts";
import type { ProjectConfig } from "../config/project-config.ts";
import type { ServiceRecord } from "../state/schema.ts";
import type { ContainerState } from "../runtime/provider.ts";
import { isMapping, serviceLabelsOf } from "../compose/model-shape.ts";
import { CiloError, ExitCode } from "../errors.ts";

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
    const ports = containerPorts(services[name]);
    const port = httpPort(name, labels.get(name)?.[LABEL_PORT], ports);
    const tcp = tcpPorts(name, labels.get(name)?.[LABEL_TCP], ports);
    return {
      name,
      ...(hostnames.length > 0 ? { hostnames } : {}),
      ...(name === ingress ? { ingress: true } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(ports.length > 1 ? { ports } : {}),
      ...(tcp.length > 0 ? { tcp } : {}),
    };
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

/**
 * The port the gateway sends a service's HTTP to (docs/routing.md): the `cilo.port` label, else
 * the service's only exposed or published container port, else undefined (the gateway uses 80).
 * With several ports and no label, the lowest is taken. A label that is not a port is refused.
 */
export function httpPort(service: string, label: string | undefined, ports: number[]): number | undefined {
  if (label !== undefined && label.trim() !== "") {
    const n = Number(label.trim());
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      throw new CiloError("E_COMPOSE_INVALID", `The ${LABEL_PORT} label of service "${service}" is ${JSON.stringify(label.slice(0, 20))}, not a port number`, {
        exitCode: ExitCode.usage,
      });
    }
    return n;
  }
  return ports[0];
}

/**
 * The container ports a service of a resolved model exposes (`expose`) or published (`ports`,
 * short or long form, compose 1.29 and v2 shapes), TCP only, sorted and unique. Ranges count
 * only when they hold one port.
 */
export function containerPorts(definition: unknown): number[] {
  if (!isMapping(definition)) return [];
  const out = new Set<number>();
  const add = (v: unknown) => {
    const text = String(v ?? "").trim();
    const [spec = "", proto = "tcp"] = text.split("/");
    if (proto !== "tcp") return;
    const [lo, hi] = spec.split("-");
    const n = Number(lo);
    if (hi !== undefined && Number(hi) !== n) return;
    if (Number.isInteger(n) && n >= 1 && n <= 65535) out.add(n);
  };
  for (const e of Array.isArray(definition["expose"]) ? definition["expose"] : []) add(e);
  for (const p of Array.isArray(definition["ports"]) ? definition["ports"] : []) {
    if (isMapping(p)) {
      if (p["protocol"] === undefined || p["protocol"] === "tcp") add(p["target"]);
    } else if (typeof p === "string" || typeof p === "number") {
      // "80", "8080:80", "127.0.0.1:8080:80/tcp", "[::1]:8080:80": the container port is last.
      const text = String(p);
      const slash = text.indexOf("/");
      const proto = slash >= 0 ? text.slice(slash) : "";
      const body = slash >= 0 ? text.slice(0, slash) : text;
      add(`${body.slice(body.lastIndexOf(":") + 1)}${proto}`);
    }
  }
  return [...out].sort((a, b) => a - b);
}
