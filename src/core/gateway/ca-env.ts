import { LABEL_CA } from "../labels.ts";
import { caEnvironment, ensureCaBundle } from "./ca.ts";
import { gatewayDisabled } from "./settings.ts";

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

/**
 * The host paths of this home's CA certificate and bundle for services labelled `cilo.ca` (created
 * on first use), or nothing: with the gateway off, when no service asks, or on an engine reached
 * over `tcp://`/`ssh://`, whose containers cannot bind a file of this machine (docs/routing.md).
 */
export function containerCa(
  ctx: { home: string; env: NodeJS.ProcessEnv; endpoint(): { host: string } },
  homeId: string,
  model: Record<string, unknown>,
): { cert: string; bundle: string } | undefined {
  if (gatewayDisabled(ctx.env)) return undefined;
  const services = Object.values((model["services"] ?? {}) as Record<string, { labels?: unknown }>);
  const asks = services.some((s) => {
    const labels = s?.labels;
    if (Array.isArray(labels)) return labels.some((l) => typeof l === "string" && l.startsWith(`${LABEL_CA}=`));
    return labels !== null && typeof labels === "object" && LABEL_CA in labels;
  });
  if (!asks || !/^(unix|npipe):\/\//.test(ctx.endpoint().host)) return undefined;
  const files = ensureCaBundle(ctx.home, homeId, ctx.env);
  return { cert: files.cert, bundle: files.bundle };
}
