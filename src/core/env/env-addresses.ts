import type { EnvRecord } from "../state/schema.ts";
import type { EnvView as EnvStatusView } from "./views.ts";

export interface EnvUrl {
  service: string;
  url: string;
  /** gateway: the `.localhost` name through the gateway; dns: the name cilo's DNS serves; ip: the container's address. */
  via: "gateway" | "dns" | "ip";
}

export interface EnvTcpAddress {
  service: string;
  /** The container port. */
  port: number;
  /** `host:port` to connect to. */
  address: string;
  via: "forward" | "ip";
}

/**
 * Every way to reach an env's services from this host (MCP `env_up`): the gateway URLs of
 * `cilo status`, `http://<dns name>[:port]` and `http://<ip>[:port]` of each service with an HTTP
 * port, and for TCP services the forwards (`CILO_ADDR_*`) and `<ip>:<port>`. For an env on a host
 * only the gateway URLs and the forwards: the others lead to the host's container IPs.
 */
export function envAddresses(view: EnvStatusView, rec: EnvRecord): { urls: EnvUrl[]; tcp: EnvTcpAddress[] } {
  const urls: EnvUrl[] = [];
  const tcp: EnvTcpAddress[] = [];
  for (const s of view.services) {
    const svc = rec.services.find((r) => r.name === s.name);
    for (const url of s.urls) urls.push({ service: s.name, url, via: "gateway" });
    // An env on a host: its container IPs are the host's, not reachable from here; its gateway URLs
    // and forwards go through its ssh forward or the host's own gateway and forward containers
    // (docs/remote.md "Names of remote envs").
    if (rec.host) continue;
    const tcpPorts = svc?.tcp ?? [];
    // As the gateway does: a service with no known HTTP port is taken to serve on 80, unless it is a TCP service.
    const known = svc?.ports ?? (svc?.port !== undefined ? [svc.port] : tcpPorts.length > 0 ? [] : [80]);
    const httpPorts = known.filter((p) => !tcpPorts.includes(p));
    for (const port of httpPorts) {
      const at = port === 80 ? "" : `:${port}`;
      const name = s.dns.find((d) => !d.startsWith("*"));
      if (name) urls.push({ service: s.name, url: `http://${name}${at}`, via: "dns" });
      if (s.ip) urls.push({ service: s.name, url: `http://${s.ip}${at}`, via: "ip" });
    }
    for (const port of tcpPorts) if (s.ip) tcp.push({ service: s.name, port, address: `${s.ip}:${port}`, via: "ip" });
  }
  for (const f of view.forwards) tcp.push({ service: f.service, port: f.port, address: `${f.address}:${f.host_port}`, via: "forward" });
  return { urls, tcp };
}
