import { CiloError, ExitCode } from "../errors.ts";
import { LABEL_TCP } from "../labels.ts";
import type { EnvRecord, ForwardRecord } from "../state/schema.ts";
export { parseForwardRange } from "../port-range.ts";

/** The host ports TCP forwards come from when `cilo init --forward-ports` was not given. */
export const DEFAULT_FORWARD_RANGE = "15000-15999";

/**
 * Container ports that are not HTTP by convention: a service exposing or publishing one of them
 * gets a host forward without a `cilo.tcp` label (docs/routing.md "TCP services").
 */
export const WELL_KNOWN_TCP_PORTS: Readonly<Record<number, string>> = {
  1433: "SQL Server",
  1521: "Oracle",
  1883: "MQTT",
  2181: "ZooKeeper",
  3306: "MySQL/MariaDB",
  4222: "NATS",
  5432: "PostgreSQL",
  5672: "AMQP (RabbitMQ)",
  6379: "Redis/Valkey",
  7687: "Neo4j Bolt",
  9042: "Cassandra",
  9092: "Kafka",
  11211: "Memcached",
  11300: "Beanstalkd",
  27017: "MongoDB",
};

/**
 * The container ports of a service that get a host TCP forward. The `cilo.tcp` label decides when
 * set: a list of ports (`5432` or `5432,5433`; they need not be exposed), `true`/`all` for every
 * exposed or published port, `false`/`none` for none. Without it: the exposed or published ports
 * that are well-known non-HTTP ports. A label that is none of these is refused (exit 2).
 */
export function tcpPorts(service: string, label: string | undefined, ports: number[]): number[] {
  const text = (label ?? "").trim().toLowerCase();
  if (text === "") return ports.filter((p) => WELL_KNOWN_TCP_PORTS[p] !== undefined);
  if (/^(true|all|yes|1)$/.test(text)) return [...ports];
  if (/^(false|none|no|0)$/.test(text)) return [];
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const n = Number(part.trim());
    if (part.trim() === "" || !Number.isInteger(n) || n < 1 || n > 65535) {
      throw new CiloError(
        "E_COMPOSE_INVALID",
        `The ${LABEL_TCP} label of service "${service}" is ${JSON.stringify(String(label).slice(0, 40))}: not ports such as 5432,6379, true or false`,
        { exitCode: ExitCode.usage },
      );
    }
    out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

/** What an env wants forwarded: each (service, container port), sorted. Services of a shared instance are left out. */
export function wantedForwards(rec: Pick<EnvRecord, "services">): { service: string; port: number }[] {
  return rec.services
    .filter((s) => !s.shared)
    .flatMap((s) => (s.tcp ?? []).map((port) => ({ service: s.name, port })))
    .sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : a.port - b.port));
}

/** Whether an env holds its forwards' host ports: every status but stopped and created (never started). */
export function holdsForwards(rec: Pick<EnvRecord, "status">): boolean {
  return rec.status !== "stopped" && rec.status !== "created";
}

export interface AllocateInput {
  range: { first: number; last: number };
  wanted: { service: string; port: number }[];
  address: string;
  /** The env's forwards from its last up: each keeps its host port when that is still free. */
  previous?: ForwardRecord[];
  /** Host ports other envs of this home hold. */
  taken: Iterable<number>;
  /** Host ports other envs remember but do not hold (stopped envs): given out only when nothing else is free. */
  remembered?: Iterable<number>;
  /** Host ports found held by another program (the engine refused to publish them). */
  excluded?: Iterable<number>;
}

/**
 * Host ports for an env's forwards (pure). A forward keeps its previous port when it is in the
 * range and neither held by another env nor excluded; the others get the lowest free port of the
 * range, preferring ports no stopped env remembers. No two forwards get the same port. A range
 * with no free port left is E_FORWARD_RANGE_FULL.
 */
export function allocateForwards(input: AllocateInput): ForwardRecord[] {
  const { first, last } = input.range;
  const blocked = new Set<number>([...input.taken, ...(input.excluded ?? [])]);
  const remembered = new Set<number>(input.remembered ?? []);
  const used = new Set<number>();
  const out: (ForwardRecord | undefined)[] = input.wanted.map((w) => {
    const prev = input.previous?.find((p) => p.service === w.service && p.port === w.port);
    const hp = prev?.host_port;
    if (hp === undefined || hp < first || hp > last || blocked.has(hp) || used.has(hp)) return undefined;
    used.add(hp);
    return { service: w.service, port: w.port, address: input.address, host_port: hp };
  });
  const pick = (allowRemembered: boolean): number | undefined => {
    for (let p = first; p <= last; p++) {
      if (!blocked.has(p) && !used.has(p) && (allowRemembered || !remembered.has(p))) return p;
    }
    return undefined;
  };
  return input.wanted.map((w, i) => {
    const kept = out[i];
    if (kept) return kept;
    const hp = pick(false) ?? pick(true);
    if (hp === undefined) {
      throw new CiloError("E_FORWARD_RANGE_FULL", `No host port of the TCP forward range ${first}-${last} is free for ${w.service}:${w.port}`, {
        hint: "Widen it with cilo init --forward-ports <first>-<last>, or down envs you do not use",
      });
    }
    used.add(hp);
    return { service: w.service, port: w.port, address: input.address, host_port: hp };
  });
}

/** `CILO_ADDR_<SERVICE>_<PORT>`: the service upper-cased, every character but A-Z and 0-9 made `_`. */
export function forwardVariable(service: string, port: number): string {
  return `CILO_ADDR_${service.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_${port}`;
}

/** The `CILO_ADDR_…=<address>:<host port>` variables of a running env (the first forward wins a name two services share). */
export function forwardEnvironment(rec: Pick<EnvRecord, "status" | "forwards">): Record<string, string> {
  if (rec.status !== "running") return {};
  const out: Record<string, string> = {};
  for (const f of rec.forwards ?? []) {
    const name = forwardVariable(f.service, f.port);
    if (!(name in out)) out[name] = `${f.address}:${f.host_port}`;
  }
  return out;
}
