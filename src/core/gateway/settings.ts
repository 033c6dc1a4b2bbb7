import { isIPv4 } from "../ip.ts";

// The gateway's small facts, apart from gateway.ts (which runs it): what `cilo list`, URLs and DNS
// need must not load the container code, the CA (node:tls) or the routing probe (node:http); nor
// `node:net` through an ESM import, whose namespace loads three more built-ins for `cilo status`.

/** The gateway image users get: Caddy's official image. Tests use an offline one (CILO_GATEWAY_IMAGE). */
export const DEFAULT_GATEWAY_IMAGE = "caddy:2";
export const DEFAULT_GATEWAY_HTTP_PORT = 80;
export const DEFAULT_GATEWAY_HTTPS_PORT = 443;

/** `CILO_GATEWAY=off` (or 0, false, no): cilo neither starts nor changes a gateway. */
export function gatewayDisabled(env: Readonly<Record<string, string | undefined>>): boolean {
  return /^(off|0|false|no)$/i.test(env["CILO_GATEWAY"] ?? "");
}

/**
 * Where the gateway publishes: the loopback for a local engine; for an engine reached at
 * `tcp://<ip>:<port>` that address (the host's loopback is not the engine's there).
 */
export function publishAddress(engineAddress: string | undefined): string {
  const m = /^tcp:\/\/([0-9.]+):\d+/.exec(engineAddress ?? "");
  return m && isIPv4(m[1]!) ? m[1]! : "127.0.0.1";
}
