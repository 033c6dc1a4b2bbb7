import { ipVersion } from "./ip.ts";
import { isAbsolute } from "node:path";
import { CiloError, ExitCode, type ErrorCode } from "./errors.ts";

/*
 * The one place that decides which names and values may reach a DNS config file (dnsmasq.conf,
 * the hosts files, the system-resolver hooks of `cilo dns setup`) or a file name derived from
 * them. Values are checked where they enter (project config, `cilo init`, state read) and again
 * where they are written; a value that fails is refused (exit 2), never written. Messages show
 * the value JSON-escaped and truncated, so a newline in it cannot forge a second output line.
 */

/** A hostname label (RFC 1123): what project, env and suffix labels must be. */
export const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** A label of a served name: also `_`, which compose service names may hold (dnsmasq serves it). */
export const NAME_LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;
/** A compose service name as compose accepts it (the DNS name is checked label by label). */
const SERVICE_NAME = /^[A-Za-z0-9._-]{1,253}$/;
/** An IPv6 zone (`fe80::1%eth0`): an interface name or number. */
const ZONE = /^[A-Za-z0-9_.-]{1,32}$/;
const MAX_NAME = 253;

/** `value` for a one-line message: JSON-escaped (no raw newline or control character) and truncated. */
export function shown(value: unknown, max = 60): string {
  const s = typeof value === "string" ? value : String(value);
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(cut);
}

export function isHostLabel(s: string): boolean {
  return HOST_LABEL.test(s);
}

/** A dotted name of served labels (`api`, `admin.shop`, `my_db`), at most 253 characters. */
export function isDnsName(s: string): boolean {
  return s.length > 0 && s.length <= MAX_NAME && s.split(".").every((l) => NAME_LABEL.test(l));
}

/** A service name as compose allows it; anything else in state is refused. */
export function isServiceName(s: unknown): s is string {
  return typeof s === "string" && SERVICE_NAME.test(s);
}

/**
 * Why `input` is not a DNS suffix, or its normal form: one leading and one trailing dot dropped
 * (`.test`, `test.` and `test` are the same suffix), lower-cased, then one or more hostname labels
 * (`a-z 0-9 -`, 1–63 characters, not starting or ending with `-`), at most 253 characters.
 */
export function parseDnsSuffix(input: unknown): { suffix: string } | { why: string } {
  if (typeof input !== "string") return { why: "it is not a string" };
  const s = input.replace(/^\./, "").replace(/\.$/, "").toLowerCase();
  if (s.length === 0) return { why: "it is empty" };
  if (s.length > MAX_NAME) return { why: `it is longer than ${MAX_NAME} characters` };
  for (const label of s.split(".")) {
    if (label.length === 0) return { why: "it has an empty label (two dots in a row)" };
    if (label.length > 63) return { why: `the label ${shown(label, 20)} is longer than 63 characters` };
    if (!HOST_LABEL.test(label)) return { why: `the label ${shown(label, 20)} may hold only a-z, 0-9 and "-" (not at its ends)` };
  }
  return { suffix: s };
}

/** The normal form of a DNS suffix; anything else is refused (exit 2, `E_DNS_INVALID_SUFFIX`). */
export function dnsSuffix(input: unknown, what = "The DNS suffix"): string {
  const r = parseDnsSuffix(input);
  if ("suffix" in r) return r.suffix;
  throw invalid("E_DNS_INVALID_SUFFIX", `${what} ${shown(input)} is not a DNS suffix such as "test" or ".test": ${r.why}`);
}

/**
 * Names reserved for private or special use (RFC 6761, RFC 8375, ICANN's `.internal`): the only
 * suffixes a project's own config may choose. A repository nobody reviewed must not make
 * `sudo cilo dns setup` send a real domain (`com`, `github.com`) to cilo's dnsmasq; a suffix the
 * user sets with `cilo init --dns-suffix` may be anything.
 */
export const PRIVATE_USE_SUFFIXES = ["test", "localhost", "internal", "example", "invalid", "local", "home.arpa"] as const;

/** Whether a (normal-form) suffix is, or ends in, a name reserved for private use. */
export function isPrivateUseSuffix(suffix: string): boolean {
  return PRIVATE_USE_SUFFIXES.some((r) => suffix === r || suffix.endsWith(`.${r}`));
}

/** A DNS suffix from a project's config: as `dnsSuffix`, and under a name reserved for private use. */
export function projectDnsSuffix(input: unknown, what = "The DNS suffix"): string {
  const s = dnsSuffix(input, what);
  if (isPrivateUseSuffix(s)) return s;
  throw invalid(
    "E_DNS_INVALID_SUFFIX",
    `${what} ${shown(input)} is not under a name reserved for private use (${PRIVATE_USE_SUFFIXES.map((r) => `.${r}`).join(", ")}); a project may not claim a public domain — set other suffixes for this machine with cilo init --dns-suffix`,
  );
}

/** A custom hostname as given in config or by a label: lower-cased, then a dotted name. */
export function hostnameEntry(input: unknown, what = "The hostname"): string {
  const s = typeof input === "string" ? input.trim().toLowerCase() : "";
  if (isDnsName(s)) return s;
  throw invalid(
    "E_DNS_INVALID_NAME",
    `${what} ${shown(input)} is not a DNS name: use labels of a-z, 0-9, "-" and "_" (at most 63 characters each) separated by dots`,
  );
}

// ---- Values rendered into config files: checked at render time (throw, never write a bad line).

export function configPort(port: unknown, what = "The DNS port"): number {
  if (typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535) return port;
  throw invalid("E_DNS_INVALID_VALUE", `${what} ${shown(port)} is not a port number from 1 to 65535`);
}

export function configIp(ip: unknown, what = "The address"): string {
  if (typeof ip === "string" && ipVersion(ip) !== 0) return ip;
  throw invalid("E_DNS_INVALID_IP", `${what} ${shown(ip)} is not an IP address`);
}

/**
 * A path written into dnsmasq.conf (`pid-file=`, `hostsdir=`): absolute, no control character,
 * and none of the characters dnsmasq's config reader treats specially (`"` quotes, `\` escapes,
 * `#` comments).
 */
export function configPath(path: unknown, what = "The path"): string {
  if (typeof path === "string" && isAbsolute(path) && path === path.trim() && !/[\u0000-\u001f\u007f"#\\]/.test(path)) return path;
  throw invalid(
    "E_DNS_INVALID_VALUE",
    `${what} ${shown(path)} cannot be written into dnsmasq's config: it must be absolute, without control characters, quotes, "#" or "\\"`,
  );
}

/** An upstream in dnsmasq `server=` syntax: `<ip>`, `<ipv6>%<zone>`, each optionally `#<port>`. */
export function isUpstream(s: unknown): s is string {
  if (typeof s !== "string") return false;
  const [addr = "", port, ...rest] = s.split("#");
  if (rest.length > 0) return false;
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) return false;
  const [ip = "", zone, ...more] = addr.split("%");
  if (more.length > 0 || (zone !== undefined && !ZONE.test(zone))) return false;
  return ipVersion(ip) !== 0 && (zone === undefined || ipVersion(ip) === 6);
}

export function configUpstream(s: unknown): string {
  if (isUpstream(s)) return s;
  throw invalid("E_DNS_INVALID_VALUE", `The upstream resolver ${shown(s)} is not an address such as 10.0.0.1 or 127.0.0.1#5300`);
}

function invalid(code: ErrorCode, message: string): CiloError {
  return new CiloError(code, message, { exitCode: ExitCode.usage });
}
