import { ipVersion, isIPv4 } from "./ip.ts";
import { isDnsLabel } from "./names.ts";
import { isDnsName, shown } from "./dns-names.ts";
import { usageError } from "./errors.ts";

// What a `cilo host add` records, checked where it enters (the command) and again where state is
// read (validate.ts): host names, addresses and Docker context names. Pure: no I/O.

/** The name every command uses for the engine cilo reaches without a host (DOCKER_HOST, the context). */
export const LOCAL_HOST = "local";

/** A host name: a DNS label (like env names, but never normalised), and not `local`. */
export function hostNameProblem(name: string): string | undefined {
  if (name.length === 0) return "The host name is empty";
  if (name.length > 63 || !isDnsLabel(name))
    return `The host name ${shown(name, 40)} is not valid: use lower-case letters, digits and "-", starting and ending with a letter or digit`;
  if (name === LOCAL_HOST) return `The host name "${LOCAL_HOST}" means the engine cilo reaches without a host: pick another name`;
  return undefined;
}

/** Docker's own rule for context names (`docker context create`). */
const CONTEXT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$/;

/** A user (`ssh://<user>@…`): what `ssh -l` takes without surprises, never starting with `-`. */
const SSH_USER = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,31}$/;

/** An IPv4 address a host's engine cannot publish on for this machine: loopback (127/8) or unspecified. */
export function isLocalIPv4(ip: string): boolean {
  return ip.startsWith("127.") || ip === "0.0.0.0";
}

/** The host part of a `tcp://host:port` address (`[…]` kept for IPv6); undefined for anything else. */
export function tcpHostPart(address: string): string | undefined {
  const m = /^tcp:\/\/(\[[^\]]*\]|[^/:]+):\d+\/?$/.exec(address);
  return m?.[1];
}

/** `ssh://[user@]host[:port]` or `tcp://host[:port]`, normalised; or why not. */
export function parseHostAddress(input: string): { address: string; scheme: "ssh" | "tcp" } | { why: string } {
  const bad = (why: string) => ({ why: `The host address ${shown(input, 60)} ${why}` });
  if (/[\0-\x20\x7f]/.test(input)) return bad("has spaces or control characters");
  const m = /^([a-z]+):\/\/(.*)$/.exec(input);
  if (!m) return bad("is not an ssh:// or tcp:// address");
  const scheme = m[1]!;
  if (scheme !== "ssh" && scheme !== "tcp") return bad(`has the scheme ${scheme}://: use ssh://user@host[:port] or tcp://host:port`);
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return bad("is not a valid URL");
  }
  if (url.password) return bad("has a password: cilo never records credentials (use an SSH key or agent)");
  if ((url.pathname !== "" && url.pathname !== "/") || url.search || url.hash) return bad("has a path, query or fragment");
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  if (!hostname || !(ipVersion(hostname) !== 0 || isDnsName(hostname.toLowerCase()))) return bad("does not name a host (a DNS name or an IP address)");
  if (scheme === "tcp") {
    if (url.username) return bad("has a user: tcp:// takes none");
    if (url.port === "") return bad("has no port: write tcp://host:2376 (TLS) or tcp://host:2375");
    return { scheme, address: `tcp://${url.host.toLowerCase()}` };
  }
  const user = decodeURIComponent(url.username);
  if (user && !SSH_USER.test(user)) return bad(`has the user ${shown(user, 40)}, which is not a user name`);
  return { scheme, address: `ssh://${user ? `${user}@` : ""}${url.host.toLowerCase()}` };
}

/** A Docker context name as `docker context create` accepts it; or why not. */
export function contextNameProblem(name: string): string | undefined {
  return CONTEXT_NAME.test(name) && name.length <= 100
    ? undefined
    : `${shown(name, 60)} is neither an ssh://user@host[:port] or tcp://host:port address nor a Docker context name`;
}

/** An RFC 1123 label: letters, digits and "-", 1–63 characters, not starting or ending with "-". */
const HOSTNAME_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A host name a `tcp://` engine address may give instead of an IPv4 address (`build1.tailnet.example`):
 * lower-case RFC 1123 labels joined by single dots, at most 253 characters, no trailing dot, and a
 * last label that is not all digits (so `10.0.0` is neither an address nor a name). Or why not,
 * as a clause (`the host name … is …`). Checked at `host add` and where the reach is computed;
 * state validation keeps the looser rule of `parseHostAddress`, so no recorded host becomes invalid.
 */
export function hostnameProblem(name: string): string | undefined {
  const why = (w: string) => `the host name ${shown(name, 60)} ${w}`;
  if (name.length === 0 || name.length > 253) return why("must have 1 to 253 characters");
  const labels = name.split(".");
  if (labels.some((l) => !HOSTNAME_LABEL.test(l))) return why('is not a DNS name of lower-case letters, digits and "-" between dots');
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return why("ends with a label of digits only: neither a name nor an IPv4 address");
  return undefined;
}

/**
 * What the name of a `tcp://` host's engine resolved to with the system resolver (`HostRecord.resolved`):
 * an IPv4 address, or why not (one line). Checked where state is read; the loopback and unspecified
 * addresses are kept as facts and refused by the reach (gateway/host-reach.ts).
 */
export function resolvedProblem(r: unknown): string | undefined {
  if (typeof r !== "object" || r === null || Array.isArray(r)) return "is not an object";
  const o = r as Record<string, unknown>;
  if (Object.keys(o).some((k) => !["name", "ipv4", "error", "at"].includes(k))) return "has keys other than name, ipv4, error, at";
  if (typeof o["name"] !== "string" || hostnameProblem(o["name"])) return "has a name that is not a host name";
  if ((o["ipv4"] === undefined) === (o["error"] === undefined)) return "must have either ipv4 or error";
  if (o["ipv4"] !== undefined && (typeof o["ipv4"] !== "string" || !isIPv4(o["ipv4"]))) return "has an ipv4 that is not an IPv4 address";
  if (o["error"] !== undefined && (typeof o["error"] !== "string" || o["error"].length > 300 || /[\0-\x1f\x7f]/.test(o["error"])))
    return "has an error that is not one line of at most 300 characters";
  if (typeof o["at"] !== "string" || Number.isNaN(Date.parse(o["at"]))) return "has no time (at)";
  return undefined;
}

/** Checks a host record read from state; the problems found. */
export function hostRecordProblems(name: string, rec: unknown): string[] {
  const k = shown(name);
  const problem = hostNameProblem(name);
  if (problem) return [`host ${k}: ${problem}`];
  if (typeof rec !== "object" || rec === null || Array.isArray(rec)) return [`host ${k} is not an object`];
  const r = rec as Record<string, unknown>;
  const out: string[] = [];
  if ((r["address"] === undefined) === (r["context"] === undefined)) out.push(`host ${k} must have either an address or a context`);
  if (r["address"] !== undefined && (typeof r["address"] !== "string" || "why" in parseHostAddress(r["address"])))
    out.push(`host ${k} has an address that is not ssh:// or tcp://`);
  if (r["context"] !== undefined && (typeof r["context"] !== "string" || contextNameProblem(r["context"])))
    out.push(`host ${k} has a context that is not a context name`);
  if (r["tls_dir"] !== undefined && (typeof r["tls_dir"] !== "string" || !r["tls_dir"].startsWith("/") || r["tls_dir"].includes("\0")))
    out.push(`host ${k} has a tls_dir that is not an absolute path`);
  if (r["remote_root"] !== undefined && (typeof r["remote_root"] !== "string" || remoteRootProblem(r["remote_root"])))
    out.push(`host ${k} has a remote_root that is not an absolute path of safe characters`);
  if (r["resolved"] !== undefined) {
    const why = resolvedProblem(r["resolved"]);
    if (why) out.push(`host ${k} has a resolved entry that ${why}`);
  }
  if (typeof r["added_at"] !== "string") out.push(`host ${k} has no added_at`);
  return out;
}

/** Usage error for a host name given on the command line. */
export function checkHostName(name: string): string {
  const problem = hostNameProblem(name);
  if (problem) throw usageError(problem);
  return name;
}

/** The remote root when a host has none of its own: under the SSH user's home (resolved on the host). */
export const DEFAULT_REMOTE_ROOT = "~/.cilo-remote";

/** Characters a remote path may have: it reaches an ssh command line, rsync and compose bind mounts. */
const SAFE_PATH = /^\/[A-Za-z0-9._/-]*$/;

/**
 * A remote root (`cilo host add --remote-root`, or the SSH user's home + `/.cilo-remote`): an
 * absolute path of letters, digits and `._/-` only, no `.`/`..` or empty segment, not `/`; or why not.
 */
export function remoteRootProblem(path: string): string | undefined {
  const why = (w: string) => `The remote root ${shown(path, 60)} ${w}`;
  if (!SAFE_PATH.test(path)) return why("must be an absolute path of letters, digits and . _ / - only");
  if (path === "/") return why("is too close to / (use a folder of its own such as /srv/cilo-remote)");
  const segments = path.split("/").slice(1);
  if (path.length > 200) return why("is too long");
  if (segments.some((s) => s === "" || s === "." || s === "..")) return why("has an empty, . or .. segment (write it without them, no trailing /)");
  if (segments.length < 2 && !/^\/(srv|opt|data)$/.test(path)) return why("is too close to / (use a folder of its own such as /srv/cilo-remote)");
  return undefined;
}

/** `<root>/<project>/<env>`: an env's workspace on its host. */
export function remoteWorkspacePath(root: string, project: string, env: string): string {
  return `${root}/${project}/${env}`;
}

/** A recorded remote workspace: `<valid root>/<project>/<env>` exactly; or why not. */
export function remoteWorkspaceProblem(path: unknown, project: string, env: string): string | undefined {
  if (typeof path !== "string") return "is not a string";
  const tail = `/${project}/${env}`;
  if (!isDnsLabel(project) || !isDnsLabel(env) || !path.endsWith(tail)) return `does not end with ${tail}`;
  return remoteRootProblem(path.slice(0, -tail.length));
}
