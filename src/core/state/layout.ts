import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CiloError, messageOf } from "../errors.ts";
import { isHostLabel, parseDnsSuffix, shown } from "../dns-names.ts";
import { isRecord } from "../is-record.ts";
import { parseCidr } from "../cidr.ts";
import { ENV_STATUSES, type EnvRecord, type EnvStatus, type State } from "./schema.ts";
import { envRecordProblems, homeProblems, hostProblems, subnetProblems, type SubnetOwner } from "./validate.ts";

/*
 * The state on disk since schema 3 (docs/state.md, "Layout"): `state.json` holds the home (version,
 * id, config, hosts, shared instances) and a small index with one entry per env; each env's whole
 * record is its own file, `records/<project>/<env>.json`. A single-env operation reads, validates
 * and writes the index and that env's file only. In memory the state keeps its shape
 * (`state.envs[key]`): `envs` loads a record when it is first asked for, and every record when
 * they are enumerated (`Object.values`), so callers that need all envs get them at today's cost.
 */

/** What the index keeps of an env: enough to allocate subnets, find names and show `cilo list`. */
export interface EnvIndexEntry {
  status: EnvStatus;
  subnet: string;
  extra_subnets?: Record<string, string>;
  host?: string;
  shared_networks?: string[];
  /** The env's own DNS suffix, when it has one: the DNS collision check picks the envs to read by it. */
  dns_suffix?: string;
  /** Number of services. */
  services: number;
  created_at: string;
  owner_pid?: number;
  lease?: "mcp";
  expires_at?: string;
}

/** The index form of a record: a pure function of it, rewritten whenever the record is. */
export function indexEntryOf(rec: EnvRecord): EnvIndexEntry {
  return {
    status: rec.status,
    subnet: rec.subnet,
    ...(rec.extra_subnets && Object.keys(rec.extra_subnets).length ? { extra_subnets: rec.extra_subnets } : {}),
    ...(rec.host !== undefined ? { host: rec.host } : {}),
    ...(rec.shared_networks?.length ? { shared_networks: rec.shared_networks } : {}),
    ...(rec.dns_suffix !== undefined ? { dns_suffix: rec.dns_suffix } : {}),
    services: Array.isArray(rec.services) ? rec.services.length : 0,
    created_at: rec.created_at,
    ...(rec.owner_pid !== undefined ? { owner_pid: rec.owner_pid } : {}),
    ...(rec.lease !== undefined ? { lease: rec.lease } : {}),
    ...(rec.expires_at !== undefined ? { expires_at: rec.expires_at } : {}),
  };
}

/** `state.json` of schema 3: the home and the index. */
export interface IndexDoc extends Omit<State, "envs"> {
  index: Record<string, EnvIndexEntry>;
}

export function recordsDir(home: string): string {
  return join(home, "records");
}

/**
 * The file of the env `key` (`<project>/<env>`). Both parts must be DNS labels (validated names:
 * no `/`, `.` or `..`), so the path stays inside `records/`; anything else is refused.
 */
export function recordPath(home: string, key: string): string {
  const slash = key.indexOf("/");
  const project = key.slice(0, slash);
  const env = key.slice(slash + 1);
  if (slash < 0 || !isHostLabel(project) || !isHostLabel(env)) {
    throw new CiloError("E_STATE_INVALID", `Refusing the env key ${shown(key)}: its project and env names must be DNS labels`);
  }
  return join(recordsDir(home), project, `${env}.json`);
}

export function encodeRecord(rec: EnvRecord): string {
  return `${JSON.stringify(rec)}\n`;
}

/**
 * Problems of an index document: the home's, each entry's shape, subnets shared, hosts unknown.
 * One pass, each subnet parsed once: every command that reads state runs it over every entry.
 * With `only` (a write of an index read and validated before, whose home part is unchanged) only
 * those entries are checked; the others take part in the subnet uniqueness check as they are.
 */
export function indexProblems(doc: Partial<IndexDoc>, only?: ReadonlySet<string>): string[] {
  const problems = homeProblems(doc as Partial<State>);
  const index = doc.index;
  if (!isRecord(index)) {
    problems.push("`index` is missing or not an object");
    return problems;
  }
  const owners: SubnetOwner[] = [];
  const unchanged: string[] = [];
  const hosts = doc.hosts;
  for (const key in index) {
    const e = index[key];
    if (only !== undefined && !only.has(key)) {
      // Validated when read: only its subnets count, against the changed entries' (below).
      unchanged.push(key);
      continue;
    }
    const slash = key.indexOf("/");
    if (slash < 0 || !isHostLabel(key.slice(0, slash)) || !isHostLabel(key.slice(slash + 1))) {
      problems.push(`the index has the env key ${shown(key)}, which is not <project>/<env> of DNS labels`);
      continue;
    }
    if (!isRecord(e)) {
      problems.push(`the index entry of ${shown(key)} is not an object`);
      continue;
    }
    if (!ENV_STATUSES.includes(e["status"] as EnvStatus)) problems.push(`the index entry of ${shown(key)} has unknown status ${shown(String(e["status"]))}`);
    const subnet = e["subnet"];
    const on = typeof e["host"] === "string" ? { host: e["host"] } : {};
    if (typeof subnet !== "string" || parseCidr(subnet) === undefined) problems.push(`the index entry of ${shown(key)} has no valid subnet`);
    else owners.push({ key, subnet, ...on });
    const extra = e["extra_subnets"];
    if (extra !== undefined) {
      if (!isRecord(extra)) problems.push(`the index entry of ${shown(key)} has an invalid extra_subnets map`);
      else
        for (const network in extra) {
          const x = extra[network];
          if (typeof x !== "string" || parseCidr(x) === undefined) problems.push(`the index entry of ${shown(key)} has an invalid extra_subnets map`);
          else owners.push({ key, subnet: x, network, ...on });
        }
    }
    // Checked as a suffix here too, not only in the record: create's collision check picks envs by it.
    if (e["dns_suffix"] !== undefined && (typeof e["dns_suffix"] !== "string" || "why" in parseDnsSuffix(e["dns_suffix"])))
      problems.push(`the index entry of ${shown(key)} has the dns_suffix ${shown(e["dns_suffix"])}, which is not a DNS suffix`);
    const joined = e["shared_networks"];
    if (joined !== undefined && !(Array.isArray(joined) && joined.every((k) => typeof k === "string")))
      problems.push(`the index entry of ${shown(key)} has an invalid shared_networks list`);
    if (e["host"] !== undefined) problems.push(...hostProblems(key, e["host"], hosts));
    // What `cilo list` prints from the entry alone (a hand-edited index must be E_STATE_CORRUPT, not a crash).
    if (!Number.isInteger(e["services"]) || (e["services"] as number) < 0) problems.push(`the index entry of ${shown(key)} has no service count`);
    if (typeof e["created_at"] !== "string") problems.push(`the index entry of ${shown(key)} has no created_at time`);
    if (e["owner_pid"] !== undefined && !(Number.isInteger(e["owner_pid"]) && (e["owner_pid"] as number) > 0))
      problems.push(`the index entry of ${shown(key)} has an invalid owner_pid`);
    if (e["lease"] !== undefined && e["lease"] !== "mcp") problems.push(`the index entry of ${shown(key)} has an unknown lease ${shown(String(e["lease"]))}`);
    if (e["expires_at"] !== undefined && (typeof e["expires_at"] !== "string" || Number.isNaN(Date.parse(e["expires_at"]))))
      problems.push(`the index entry of ${shown(key)} has an invalid expires_at time`);
  }
  if (only === undefined) {
    problems.push(...subnetProblems(owners, doc.shared));
    return problems;
  }
  // Only the changed entries' subnets can be shared: each against the others and every unchanged
  // entry's (strings compared; those were parsed when the index was read).
  problems.push(...subnetProblems(owners, doc.shared));
  const mine = new Map(owners.map((o) => [`${o.host ?? ""} ${o.subnet}`, o]));
  const clash = (key: string, subnet: string, host: unknown, network?: string) => {
    const o = mine.get(`${host ?? ""} ${subnet}`);
    if (o) {
      const them = network === undefined ? `"${key}"` : `"${key} (network ${network})"`;
      problems.push(`${them} and ${o.network === undefined ? `env "${o.key}"` : `network "${o.network}" of env "${o.key}"`} share subnet ${subnet}`);
    }
  };
  if (mine.size > 0)
    for (const key of unchanged) {
      const e = index[key] as EnvIndexEntry;
      clash(key, e.subnet, e.host);
      if (e.extra_subnets !== undefined) for (const network in e.extra_subnets) clash(key, e.extra_subnets[network]!, e.host, network);
    }
  return problems;
}

/** A record file that is not a valid record of its env: one line naming the file. */
export function corruptRecord(file: string, why: string): CiloError {
  return new CiloError("E_STATE_CORRUPT", `The env record ${file} is corrupt: ${why}`, {
    hint: `Run cilo doctor --fix to restore it from ${file}.bak (or move it aside, which forgets the env)`,
  });
}

/**
 * Reads and validates one env's record: undefined when the file does not exist. `known` holds
 * texts already validated by this process (per file), so an unchanged file is not checked again.
 */
export function readRecordText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CiloError("E_STATE_READ", `Cannot read ${file}: ${messageOf(e)}`);
  }
}

export function parseRecord(text: string, file: string, key: string, homeId: string, hosts: unknown): EnvRecord {
  let rec: unknown;
  try {
    rec = JSON.parse(text);
  } catch (e) {
    throw corruptRecord(file, `it is not valid JSON (${messageOf(e)})`);
  }
  const problems = envRecordProblems(key, rec, homeId, hosts);
  if (problems.length > 0) throw corruptRecord(file, problems[0]!);
  return rec as EnvRecord;
}

/** A record as loaded: the text it was read from (undefined: new, or not read from a file). */
export interface Loaded {
  text: string | undefined;
  rec: EnvRecord;
}

/**
 * The lazily loaded envs of one state object. `change` mode (under the lock) gives each caller
 * its own copy and treats an index entry without a record as corrupt; `read` mode (no lock) skips
 * an env whose record is gone (a concurrent destroy removed it after this reader read the index).
 */
export class LazyEnvs {
  readonly loaded = new Map<string, Loaded>();
  readonly deleted = new Set<string>();
  private all = false;
  constructor(
    readonly home: string,
    readonly index: Readonly<Record<string, EnvIndexEntry>>,
    private readonly load: (key: string) => Loaded | undefined,
    readonly mode: "read" | "change",
  ) {}

  get(key: string): EnvRecord | undefined {
    const l = this.loaded.get(key);
    if (l) return l.rec;
    if (this.deleted.has(key) || !Object.hasOwn(this.index, key)) return undefined;
    const got = this.load(key);
    if (!got) {
      this.deleted.add(key); // gone under a reader
      return undefined;
    }
    this.loaded.set(key, got);
    return got.rec;
  }

  set(key: string, rec: EnvRecord): void {
    const prev = this.loaded.get(key);
    this.loaded.set(key, { text: prev?.text, rec });
    this.deleted.delete(key);
  }

  delete(key: string): void {
    if (this.has(key)) this.deleted.add(key);
    this.loaded.delete(key);
  }

  has(key: string): boolean {
    return this.loaded.has(key) || (Object.hasOwn(this.index, key) && !this.deleted.has(key));
  }

  /** Keys without loading anything: the index's (minus deleted) then new ones. */
  keys(): string[] {
    const out = Object.keys(this.index).filter((k) => !this.deleted.has(k));
    for (const k of this.loaded.keys()) if (!Object.hasOwn(this.index, k)) out.push(k);
    return out;
  }

  /** Calls `fn` with every env's key and current index entry, copying nothing (one pass over the index). */
  forEach(fn: (key: string, entry: EnvIndexEntry) => void): void {
    const { index, loaded, deleted } = this;
    for (const k in index) {
      if (deleted.has(k)) continue;
      const l = loaded.get(k);
      fn(k, l ? indexEntryOf(l.rec) : index[k]!);
    }
    for (const [k, l] of loaded) if (!Object.hasOwn(index, k)) fn(k, indexEntryOf(l.rec));
  }

  /** Every record, loaded once (enumeration: `Object.values(state.envs)`). */
  loadAll(): string[] {
    if (!this.all) {
      for (const k of Object.keys(this.index)) this.get(k);
      this.all = true;
    }
    return this.keys().filter((k) => this.loaded.has(k));
  }

  /** The index as the current records and entries make it (unloaded envs keep their entry). */
  currentIndex(): Record<string, EnvIndexEntry> {
    if (this.deleted.size === 0 && this.loaded.size === 0) return this.index;
    const out: Record<string, EnvIndexEntry> = { ...this.index };
    for (const k of this.deleted) delete out[k];
    for (const [k, l] of this.loaded) out[k] = indexEntryOf(l.rec);
    return out;
  }

  proxy(): Record<string, EnvRecord> {
    return new Proxy({} as Record<string, EnvRecord>, {
      // Env keys hold a `/`; anything else (`constructor`, `toJSON`) is an ordinary object's.
      get: (t, p, r) => (typeof p === "string" && (p.includes("/") || this.loaded.has(p)) ? this.get(p) : Reflect.get(t, p, r)),
      set: (t, p, v, r) => {
        if (typeof p !== "string") return Reflect.set(t, p, v, r);
        this.set(p, v as EnvRecord);
        return true;
      },
      defineProperty: (t, p, d) => {
        if (typeof p !== "string" || !("value" in d)) return Reflect.defineProperty(t, p, d);
        this.set(p, d.value as EnvRecord);
        return true;
      },
      deleteProperty: (t, p) => {
        if (typeof p === "string") this.delete(p);
        else Reflect.deleteProperty(t, p);
        return true;
      },
      has: (t, p) => (typeof p === "string" ? this.has(p) : Reflect.has(t, p)),
      ownKeys: () => this.loadAll(),
      getOwnPropertyDescriptor: (_t, p) => {
        if (typeof p !== "string") return undefined;
        const v = this.get(p);
        return v === undefined ? undefined : { value: v, writable: true, enumerable: true, configurable: true };
      },
    });
  }
}

const lazyOf = new WeakMap<object, LazyEnvs>();

export function attachLazy(state: State, lazy: LazyEnvs): void {
  lazyOf.set(state.envs, lazy);
}

export function lazyEnvsOf(state: State): LazyEnvs | undefined {
  return lazyOf.get(state.envs);
}

/**
 * Every env's key, without reading any record (the index's keys; a plain state's keys). For
 * callers that look envs up by name: `lookupEnv` reads only the record it finds.
 */
export function envKeys(state: State): string[] {
  const lazy = lazyEnvsOf(state);
  return lazy ? lazy.keys() : Object.keys(state.envs);
}

/** Every env's index entry, without reading any record (a plain state's are made from its records). */
export function envIndex(state: State): Record<string, EnvIndexEntry> {
  const lazy = lazyEnvsOf(state);
  if (lazy) return lazy.currentIndex();
  const out: Record<string, EnvIndexEntry> = {};
  for (const [k, rec] of Object.entries(state.envs)) out[k] = indexEntryOf(rec);
  return out;
}

/** Calls `fn` with every env's key and index entry, reading no record (a plain state's entries are made from its records). */
export function forEachIndexEntry(state: State, fn: (key: string, entry: EnvIndexEntry) => void): void {
  const lazy = lazyEnvsOf(state);
  if (lazy) lazy.forEach(fn);
  else for (const [k, rec] of Object.entries(state.envs)) fn(k, indexEntryOf(rec));
}
