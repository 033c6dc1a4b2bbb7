/** The port Caddy serves TLS on inside the gateway container (published on the host's loopback). */
export const GATEWAY_INNER_HTTPS_PORT = 443;
/** Where the gateway finds cilo's root CA (copied in through the engine's archive API). */
export const GATEWAY_CA_CERT = "/etc/caddy/ca/root.crt";
export const GATEWAY_CA_KEY = "/etc/caddy/ca/root.key";

export interface GatewayTls {
  /** SHA-256 of cilo's root (hex): named in the config so a new root is a new config. */
  caFingerprint: string;
}

/**
 * Adds HTTPS to a rendered gateway config: a second server on :443 with the same routes, HTTP/1.1
 * and HTTP/2 (no HTTP/3: only TCP is published), certificates for every name from Caddy's internal
 * issuer signing with cilo's root (the `pki` app, never installing it in the container's trust
 * store), and no HTTP->HTTPS redirects (plain HTTP keeps answering on :80).
 */
export function addTls(config: { apps: { http: { servers: Record<string, unknown> } } } & Record<string, unknown>, tls: GatewayTls): void {
  const http = config.apps.http.servers["cilo"] as { routes: unknown[]; errors?: unknown };
  if (!/^[0-9a-f]{64}$/.test(tls.caFingerprint)) throw new Error(`not a SHA-256 fingerprint: ${tls.caFingerprint.slice(0, 80)}`);
  const apps = config.apps as Record<string, unknown>;
  apps["pki"] = {
    certificate_authorities: {
      local: {
        name: `cilo ${tls.caFingerprint.slice(0, 16)}`,
        install_trust: false,
        root: { certificate: GATEWAY_CA_CERT, private_key: GATEWAY_CA_KEY, format: "pem_file" },
      },
    },
  };
  apps["tls"] = { automation: { policies: [{ issuers: [{ module: "internal", ca: "local" }] }] } };
  config.apps.http.servers["cilo_tls"] = {
    listen: [`:${GATEWAY_INNER_HTTPS_PORT}`],
    protocols: ["h1", "h2"],
    automatic_https: { disable_redirects: true },
    tls_connection_policies: [{}],
    routes: http.routes,
    ...(http.errors !== undefined ? { errors: http.errors } : {}),
  };
}
