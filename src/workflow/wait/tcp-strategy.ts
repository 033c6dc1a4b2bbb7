import { connect } from "node:net";
import type { Readiness } from "../../core/poll.ts";
import { type CiloDns, resolveHost } from "./resolve-host.ts";
import { pollingStrategy, type WaitStrategy } from "./wait-strategy.ts";

/** `host:port` accepts a TCP connection (names under cilo's suffix resolved through cilo's dnsmasq). */
export function tcpStrategy(target: string, dns: CiloDns | undefined): WaitStrategy {
  const colon = target.lastIndexOf(":");
  const host = target.slice(0, colon).replace(/^\[|\]$/g, "");
  const port = Number(target.slice(colon + 1));
  return pollingStrategy(`${target} accepts TCP connections`, async (): Promise<Readiness> => {
    if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) return { ready: false, why: `"${target}" is not host:port`, fatal: true };
    const address = await resolveHost(host, dns);
    return new Promise((resolve) => {
      const socket = connect({ host: address, port, timeout: 3000 });
      const done = (r: Readiness) => {
        socket.destroy();
        resolve(r);
      };
      socket.once("connect", () => done({ ready: true }));
      socket.once("timeout", () => done({ ready: false, why: "no answer within 3 s", fatal: false }));
      socket.once("error", (e: NodeJS.ErrnoException) =>
        done({ ready: false, why: e.code === "ECONNREFUSED" ? "connection refused" : e.message, fatal: false }),
      );
    });
  });
}
