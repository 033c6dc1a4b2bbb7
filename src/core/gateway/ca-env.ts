import { caEnvironment, ensureCaBundle } from "./ca.ts";
import { gatewayDisabled } from "./gateway.ts";

/**
 * `SSL_CERT_FILE`, `NODE_EXTRA_CA_CERTS`, `REQUESTS_CA_BUNDLE` and `CURL_CA_BUNDLE` for host
 * commands (`cilo run`, workflow `run:` steps): all point at `$CILO_HOME/gateway/ca-bundle.pem`,
 * the CAs the command trusted before plus cilo's root, so `curl https://web.<env>.<project>.localhost/`
 * needs no flag. Nothing when the gateway is off (`CILO_GATEWAY=off`).
 */
export function hostCaEnvironment(home: string, homeId: string, env: NodeJS.ProcessEnv): Record<string, string> {
  if (gatewayDisabled(env)) return {};
  return caEnvironment(ensureCaBundle(home, homeId, env).bundle);
}
