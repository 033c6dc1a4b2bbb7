import { usageError } from "../errors.ts";
import { readTextIfExists } from "./read-text.ts";
import { isUpstream, shown } from "../dns-names.ts";

/** The list of real upstreams systemd-resolved keeps (its stub at 127.0.0.53 is not one). */
export const RESOLVED_UPSTREAMS_FILE = "/run/systemd/resolve/resolv.conf";
export const RESOLV_CONF = "/etc/resolv.conf";

/** systemd-resolved's stub listeners: forwarding to them would loop back to cilo. */
const STUBS = new Set(["127.0.0.53", "127.0.0.54"]);

export interface UpstreamOptions {
  /** cilo's own port: `127.0.0.1#<port>` is never an upstream. */
  port: number;
  resolvedFile?: string;
  resolvConf?: string;
  env: NodeJS.ProcessEnv;
}

/**
 * The resolvers cilo's dnsmasq forwards names outside its suffixes to, in dnsmasq `server=` syntax
 * (`<ip>` or `<ip>#<port>`). `CILO_DNS_UPSTREAMS` (comma- or space-separated, e.g.
 * `127.0.0.1#15399,10.0.0.1`) replaces discovery; otherwise systemd-resolved's upstream list when
 * it exists, else `/etc/resolv.conf`. Stubs and cilo's own address are dropped; an empty result
 * means dnsmasq forwards nothing.
 */
export function systemUpstreams(opts: UpstreamOptions): string[] {
  const fromEnv = opts.env["CILO_DNS_UPSTREAMS"]?.trim();
  if (fromEnv) return usableUpstreams(parseUpstreamList(fromEnv), opts.port);
  const text = readTextIfExists(opts.resolvedFile ?? RESOLVED_UPSTREAMS_FILE) ?? readTextIfExists(opts.resolvConf ?? RESOLV_CONF) ?? "";
  return usableUpstreams(parseNameservers(text), opts.port);
}

/** The `nameserver` addresses of a resolv.conf, in order; malformed lines are skipped. */
export function parseNameservers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const [key, value] = line
      .replace(/[#;].*$/, "")
      .trim()
      .split(/\s+/);
    if (key === "nameserver" && value && isUpstream(value) && !value.includes("#")) out.push(value);
  }
  return out;
}

/** Drops duplicates, the resolved stubs and cilo's own listener, keeping the order. */
export function usableUpstreams(servers: string[], port: number): string[] {
  const own = new Set([`127.0.0.1#${port}`, ...(port === 53 ? ["127.0.0.1"] : [])]);
  return [...new Set(servers)].filter((s) => !STUBS.has(s.split("#")[0]!) && !own.has(s));
}

function parseUpstreamList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((entry) => {
      const [addr = "", port, ...rest] = entry.split("#");
      const n = Number(port ?? 53);
      if (rest.length > 0 || !isUpstream(addr) || !Number.isInteger(n) || n < 1 || n > 65535) {
        throw usageError(`CILO_DNS_UPSTREAMS entry ${shown(entry)} is not an address such as 10.0.0.1 or 127.0.0.1#5300`);
      }
      return port === undefined || n === 53 ? addr : `${addr}#${n}`;
    });
}
