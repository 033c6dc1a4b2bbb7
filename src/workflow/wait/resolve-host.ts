import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";

/** Where names under cilo's DNS suffixes are looked up: cilo's dnsmasq, `127.0.0.1:<port>`. */
export interface CiloDns {
  server: string;
  /** Suffixes without the leading dot, e.g. `test`. */
  suffixes: string[];
}

/**
 * The address to connect to for `host`: `*.localhost` is 127.0.0.1 (the gateway's zero-set-up
 * names); names under one of cilo's suffixes are asked of cilo's
 * dnsmasq directly (the system resolver may not forward them); anything else is returned as is,
 * for the system resolver. Throws when cilo's DNS has no answer.
 */
export async function resolveHost(host: string, dns: CiloDns | undefined): Promise<string> {
  const name = host.replace(/\.$/, "").toLowerCase();
  // RFC 6761: `localhost` and `*.localhost` are the loopback. curl and browsers know it; glibc
  // without nss-myhostname (a plain Debian host) does not, so cilo's own checks answer it here.
  if (name === "localhost" || name.endsWith(".localhost")) return "127.0.0.1";
  if (!dns || isIP(name) || !dns.suffixes.some((s) => name.endsWith(`.${s}`))) return host;
  const resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([dns.server]);
  const [ip] = await resolver.resolve4(name);
  if (!ip) throw new Error(`${name} has no address in cilo's DNS (${dns.server})`);
  return ip;
}
