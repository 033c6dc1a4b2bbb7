import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readiness } from "../../core/poll.ts";
import type { HttpCheck } from "../types.ts";
import { type CiloDns, resolveHost } from "./resolve-host.ts";
import { pollingStrategy, type WaitStrategy } from "./wait-strategy.ts";

const MAX_BODY = 1024 * 1024;

/**
 * An HTTP GET answers with an accepted status (default 200–399) and, with `contains`, a body
 * holding that text. Names under cilo's suffix are resolved through cilo's dnsmasq and the IP is
 * requested with the original Host header (and TLS server name).
 */
export function httpStrategy(check: HttpCheck, dns: CiloDns | undefined): WaitStrategy {
  const accepted = check.status === undefined ? undefined : Array.isArray(check.status) ? check.status : [check.status];
  const want = accepted ? accepted.join(" or ") : "200-399";
  const label = `${check.url} answers ${want}${check.contains !== undefined ? ` containing ${JSON.stringify(check.contains)}` : ""}`;
  return pollingStrategy(label, async (signal): Promise<Readiness> => {
    const res = await get(check.url, dns, signal);
    const ok = accepted ? accepted.includes(res.status) : res.status >= 200 && res.status < 400;
    if (!ok) return { ready: false, why: `status ${res.status}`, fatal: false };
    if (check.contains !== undefined && !res.body.includes(check.contains)) {
      return { ready: false, why: `status ${res.status}, but the body does not contain ${JSON.stringify(check.contains)}`, fatal: false };
    }
    return { ready: true };
  });
}

async function get(raw: string, dns: CiloDns | undefined, signal: AbortSignal): Promise<{ status: number; body: string }> {
  const url = new URL(raw);
  const https = url.protocol === "https:";
  if (!https && url.protocol !== "http:") throw new Error(`${raw} is not an http or https URL`);
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  const address = await resolveHost(hostname, dns);
  const request = https ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address,
        port: url.port || (https ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method: "GET",
        headers: { host: url.host, "user-agent": "cilo-wait" },
        timeout: 5000,
        signal,
        ...(https ? { servername: hostname } : {}),
      },
      (res: IncomingMessage) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          if (body.length < MAX_BODY) body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer within 5 s")));
    req.on("error", (e: NodeJS.ErrnoException) => reject(new Error(e.code === "ECONNREFUSED" ? "connection refused" : e.message)));
    req.end();
  });
}
