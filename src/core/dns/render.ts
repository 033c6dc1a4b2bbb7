import { isIP } from "node:net";
import { CiloError, ExitCode } from "../errors.ts";

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
  wildcards: string;
  pidFile: string;
}

interface Owner {
  ip: string;
  env: string;
  service: string;
}

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

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
    if (!LABEL.test(e.project) || !LABEL.test(e.env)) {
      throw new CiloError("E_DNS_INVALID_NAME", `"${e.project}/${e.env}" is not a valid project/env name for DNS`, { exitCode: ExitCode.usage });
    }
    const suffix = normaliseSuffix(e.suffix);
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
  const wildcards = [...apexes].map(([name, o]) => `address=/${name}/${o.ip}\n`).sort(cmp).join("");
  return { hostsFiles, wildcards, names };
}

/** The main dnsmasq config. Changes to it need a restart; hosts files in `dir` are read live. */
export function renderMainConfig(opts: MainConfigOptions): string {
  const suffixes = [...new Set(opts.suffixes.map(normaliseSuffix))].sort(cmp);
  const upstreams = [...new Set(opts.upstreams)];
  return [
    "# cilo's dnsmasq, rendered from state (cilo rewrites it)",
    `port=${opts.port}`,
    "listen-address=127.0.0.1",
    "bind-interfaces",
    "no-resolv",
    "no-hosts",
    "domain-needed",
    `pid-file=${opts.pidFile}`,
    `hostsdir=${opts.dir}`,
    ...suffixes.map((s) => `local=/${s}/`),
    ...upstreams.map((u) => `server=${u}`),
    opts.wildcards.trimEnd(),
  ]
    .filter((l) => l.length > 0)
    .join("\n")
    .concat("\n");
}

/** The hosts file of an env; `.` cannot occur in a project or env name, so names never clash. */
export function hostsFileName(project: string, env: string): string {
  return `${project}.${env}.hosts`;
}

export function normaliseSuffix(suffix: string): string {
  return suffix.replace(/^\.+|\.+$/g, "").toLowerCase();
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
  if (name.length <= 253 && name.split(".").every((l) => LABEL.test(l))) return name;
  throw new CiloError("E_DNS_INVALID_NAME", `The DNS name "${name}" of ${owner.env} (service ${owner.service}) is not valid`, {
    exitCode: ExitCode.usage,
    hint: "Use letters, digits, '-' and '_' in labels of at most 63 characters",
  });
}

function checkIp(ip: string, e: DnsEnv, service: string): string {
  if (isIP(ip) !== 0) return ip;
  throw new CiloError("E_DNS_INVALID_IP", `The address "${ip}" of ${e.project}/${e.env} (service ${service}) is not an IP address`, {
    exitCode: ExitCode.usage,
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
