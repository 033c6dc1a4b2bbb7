import { CiloError, ExitCode } from "../errors.ts";
import { configIp, configPath, configPort, configUpstream, dnsSuffix, HOST_LABEL, isDnsName, shown } from "../dns-names.ts";

/** What one env contributes to DNS. Services without an `ip` are not served. */
export interface DnsEnv {
  project: string;
  env: string;
  /** Without the leading dot, e.g. `test`. */
  suffix: string;
  services: { name: string; ip?: string; hostnames?: string[]; ingress?: boolean }[];
}

/** Everything cilo's dnsmasq serves, rendered deterministically from a list of envs. */
export interface DnsPlan {
  /** Hosts file name (`<project>.<env>.hosts`) → content, one `<ip> <name>` line per exact name. */
  hostsFiles: Record<string, string>;
  /** `address=/<project>.<env>.<suffix>/<ip>` lines (apex and wildcard of ingress services). */
  wildcards: string;
  /** Number of exact names (lines of all hosts files). */
  names: number;
}

export interface MainConfigOptions {
  port: number;
  /** The hostsdir dnsmasq watches. */
  dir: string;
  /** dnsmasq server syntax (`10.0.0.1`, `127.0.0.1#5300`), in order of preference. */
  upstreams: string[];
  suffixes: string[];
  /** The file of `server=/<domain>/127.0.0.1#<port>` lines forwarding wildcard domains (re-read on SIGHUP). */
  serversFile: string;
  pidFile: string;
}

export interface WildcardConfigOptions {
  /** Loopback port of this wildcard instance. */
  port: number;
  pidFile: string;
  /** `address=` lines as `planDns` makes them. */
  wildcards: string;
}

interface Owner {
  ip: string;
  env: string;
  service: string;
}

/** The only address cilo's dnsmasq listens on. */
export const LISTEN_ADDRESS = "127.0.0.1";
const WILDCARD_LINE = /^address=\/([^/]+)\/([^/]+)$/;

/**
 * Plans the names of every env: `<service>.<env>.<suffix>` and `<hostname>.<env>.<suffix>` as exact
 * names (hosts files), `<project>.<env>.<suffix>` and its subdomains for the ingress service
 * (`address=`). Refuses (exit 2) a name that would answer two different IPs. Exact names win over
 * a wildcard that covers them (dnsmasq answers hosts entries first), so that is not a collision.
 */
export function planDns(envs: DnsEnv[]): DnsPlan {
  const exact = new Map<string, Owner>();
  const apexes = new Map<string, Owner>();
  const files = new Map<string, { env: string; lines: string[] }>();
  for (const e of [...envs].sort((a, b) => cmp(`${a.project}/${a.env}`, `${b.project}/${b.env}`))) {
    if (!HOST_LABEL.test(e.project) || !HOST_LABEL.test(e.env)) {
      throw new CiloError("E_DNS_INVALID_NAME", `${shown(`${e.project}/${e.env}`)} is not a valid project/env name for DNS`, { exitCode: ExitCode.usage });
    }
    const suffix = dnsSuffix(e.suffix, `The DNS suffix of ${e.project}/${e.env}`);
    const file = hostsFileName(e.project, e.env);
    const own: string[] = files.get(file)?.lines ?? [];
    files.set(file, { env: `${e.project}/${e.env}`, lines: own });
    for (const s of [...e.services].sort((a, b) => cmp(a.name, b.name))) {
      if (!s.ip) continue;
      const owner: Owner = { ip: checkIp(s.ip, e, s.name), env: `${e.project}/${e.env}`, service: s.name };
      for (const label of [s.name, ...(s.hostnames ?? [])]) {
        const name = checkName(`${label}.${e.env}.${suffix}`.toLowerCase(), owner);
        if (claim(exact, name, owner)) own.push(`${owner.ip} ${name}`);
      }
      if (s.ingress) claim(apexes, checkName(`${e.project}.${e.env}.${suffix}`.toLowerCase(), owner), owner);
    }
  }
  for (const [name, owner] of apexes) {
    const other = exact.get(name);
    if (other && other.ip !== owner.ip) throw collision(name, other, owner);
  }
  const hostsFiles: Record<string, string> = {};
  let names = 0;
  for (const file of [...files.keys()].sort(cmp)) {
    const { env, lines: own } = files.get(file)!;
    if (own.length === 0) continue;
    own.sort((a, b) => cmp(a.slice(a.indexOf(" ") + 1), b.slice(b.indexOf(" ") + 1)));
    names += own.length;
    hostsFiles[file] = `# cilo: ${env} (rendered from state; cilo rewrites it)\n${own.join("\n")}\n`;
  }
  const wildcards = [...apexes]
    .map(([name, o]) => `address=/${name}/${o.ip}\n`)
    .sort(cmp)
    .join("");
  return { hostsFiles, wildcards, names };
}

/**
 * The main (front) dnsmasq config: exact names from the hosts files in `dir` (read live), the
 * suffixes answered locally, the upstreams, and the servers file that forwards each wildcard
 * domain to the wildcard instance (re-read on SIGHUP). It holds no `address=` line, which dnsmasq
 * reads only at start, so a wildcard change never restarts it; changes to it (port, suffixes,
 * upstreams) do.
 * Every value is checked before it is written (docs/dns.md lists them): one that could end a
 * line or start an option is refused (exit 2) and nothing is rendered.
 */
export function renderMainConfig(opts: MainConfigOptions): string {
  const port = configPort(opts.port);
  const listen = configIp(LISTEN_ADDRESS, "The listen address");
  const pidFile = configPath(opts.pidFile, "The pid file");
  const dir = configPath(opts.dir, "The hosts folder");
  const suffixes = [...new Set(opts.suffixes.map((s) => dnsSuffix(s)))].sort(cmp);
  const upstreams = [...new Set(opts.upstreams.map(configUpstream))];
  const serversFile = configPath(opts.serversFile, "The servers file");
  return [
    "# cilo's dnsmasq, rendered from state (cilo rewrites it)",
    `port=${port}`,
    `listen-address=${listen}`,
    "bind-interfaces",
    "no-resolv",
    "no-hosts",
    "domain-needed",
    `pid-file=${pidFile}`,
    `hostsdir=${dir}`,
    ...suffixes.map((s) => `local=/${s}/`),
    ...upstreams.map((u) => `server=${u}`),
    `servers-file=${serversFile}`,
  ]
    .filter((l) => l.length > 0)
    .join("\n")
    .concat("\n");
}

/** The domain a wildcard instance on `port` answers only to tell that the front forwards to it. */
export function switchMarker(port: number): string {
  return `cilo-switch-${configPort(port)}.invalid`;
}

/**
 * The config of a wildcard instance: a dnsmasq on its own loopback port holding the `address=`
 * lines (apex and every name below an ingress) and the marker domain of its port. A wildcard
 * change starts a new instance beside the old one; the front switches to it on SIGHUP.
 */
export function renderWildcardConfig(opts: WildcardConfigOptions): string {
  const port = configPort(opts.port);
  const lines = wildcardLines(opts.wildcards);
  return [
    "# cilo's wildcard dnsmasq, rendered from state (cilo rewrites it)",
    `port=${port}`,
    `listen-address=${configIp(LISTEN_ADDRESS, "The listen address")}`,
    "bind-interfaces",
    "no-resolv",
    "no-hosts",
    `pid-file=${configPath(opts.pidFile, "The pid file")}`,
    ...lines.map((l) => `address=/${l.domain}/${l.ip}`),
    `address=/${switchMarker(port)}/${LISTEN_ADDRESS}`,
  ]
    .join("\n")
    .concat("\n");
}

/** The front's servers file: each wildcard domain (and the marker) forwarded to the instance on `port`; empty without wildcards. */
export function renderServersFile(wildcards: string, port: number | undefined): string {
  const lines = wildcardLines(wildcards);
  if (lines.length === 0 || port === undefined) return "";
  const to = `${LISTEN_ADDRESS}#${configPort(port)}`;
  return [...lines.map((l) => `server=/${l.domain}/${to}`), `server=/${switchMarker(port)}/${to}`].join("\n").concat("\n");
}

/**
 * `renderServersFile` without checking the lines: only to compare with the file on disk (equal:
 * nothing is written), so an unchanged set of 10,000 wildcards costs no parsing.
 */
export function serversFileOf(wildcards: string, port: number | undefined): string {
  if (wildcards === "" || port === undefined) return "";
  const to = `${LISTEN_ADDRESS}#${port}\n`;
  const out: string[] = [];
  // One line per wildcard line, built by slices: it runs over every env's wildcards on each env's apply.
  for (let at = 0; at < wildcards.length; ) {
    let nl = wildcards.indexOf("\n", at);
    if (nl < 0) nl = wildcards.length;
    if (nl > at) {
      const slash = wildcards.lastIndexOf("/", nl - 1);
      out.push(`server=${wildcards.slice(at + "address=".length, slash >= at ? slash + 1 : at)}${to}`);
    }
    at = nl + 1;
  }
  return out.length === 0 ? "" : `${out.join("")}server=/${switchMarker(port)}/${to}`;
}

function wildcardLines(wildcards: string): { domain: string; ip: string }[] {
  return wildcards
    .split("\n")
    .filter((l) => l.length > 0)
    .map(checkWildcardLine)
    .map((l) => {
      const m = WILDCARD_LINE.exec(l)!;
      return { domain: m[1]!, ip: m[2]! };
    });
}

/** The hosts file of an env; `.` cannot occur in a project or env name, so names never clash. */
export function hostsFileName(project: string, env: string): string {
  return `${project}.${env}.hosts`;
}

/** An `address=/<name>/<ip>` line as planDns makes them; anything else is refused. */
function checkWildcardLine(line: string): string {
  const m = WILDCARD_LINE.exec(line);
  if (m && isDnsName(m[1]!)) {
    configIp(m[2], `The address of ${shown(m[1])}`);
    return line;
  }
  throw new CiloError("E_DNS_INVALID_NAME", `The wildcard line ${shown(line)} is not address=/<name>/<ip>`, { exitCode: ExitCode.usage });
}

/** Records `name → owner`; false when it is already there with the same IP, throws on another IP. */
function claim(map: Map<string, Owner>, name: string, owner: Owner): boolean {
  const prev = map.get(name);
  if (!prev) {
    map.set(name, owner);
    return true;
  }
  if (prev.ip === owner.ip) return false;
  throw collision(name, prev, owner);
}

function collision(name: string, a: Owner, b: Owner): CiloError {
  const who = (o: Owner) => (a.env === b.env ? `${o.env} (service ${o.service})` : o.env);
  return new CiloError("E_DNS_COLLISION", `"${name}" would answer ${a.ip} for ${who(a)} and ${b.ip} for ${who(b)}`, {
    exitCode: ExitCode.usage,
    hint: "Rename the env, the service or the custom hostname, or give one project another dns_suffix",
  });
}

function checkName(name: string, owner: Owner): string {
  if (isDnsName(name)) return name;
  throw new CiloError(
    "E_DNS_INVALID_NAME",
    `The DNS name ${shown(name)} of ${owner.env} (service ${shown(owner.service, 40)}) is not valid: use labels of a-z, 0-9, "-" and "_" of at most 63 characters`,
    { exitCode: ExitCode.usage },
  );
}

function checkIp(ip: string, e: DnsEnv, service: string): string {
  return configIp(ip, `The address of ${e.project}/${e.env} (service ${shown(service, 40)})`);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
