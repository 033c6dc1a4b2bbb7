import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CiloError, messageOf } from "../errors.ts";
import { HOST_LABEL, isHostLabel, parseDnsSuffix, shown } from "../dns-names.ts";
import { isRecord } from "../is-record.ts";
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
 * `state.json`'s text for an index document: the home part on the first line, then one index
 * entry a line, so that a write of a few entries replaces those lines (`spliceIndexText`) instead
 * of encoding every entry again. It is ordinary JSON: any JSON reader reads it whole.
 */
export function renderIndexText(doc: IndexDoc): string {
  const { index, ...home } = doc;
  const lines: string[] = [];
  for (const key in index) lines.push(entryLine(key, index[key]!));
  return joinIndexText(homeLine(home), lines);
}

function homeLine(home: Omit<IndexDoc, "index">): string {
  // `index` is the last key: the line ends with `"index":{`, the entries follow it.
  return JSON.stringify({ ...home, index: {} }).slice(0, -2);
}

function entryLine(key: string, entry: EnvIndexEntry): string {
  return `${JSON.stringify(key)}:${JSON.stringify(entry)}`;
}

function joinIndexText(head: string, lines: readonly string[]): string {
  return lines.length === 0 ? `${head}\n}}\n` : `${head}\n${lines.join(",\n")}\n}}\n`;
}

/**
 * The entry lines of a state text in the one-entry-a-line form whose parse gave `keys` (in
 * order), or undefined when the text is not in that form. Proven, not assumed: every line starts
 * with `"<its key>":`, in the parse's order (an entry's JSON holds no raw line break, so no line
 * holds more or less than one entry). A key that JSON writes escaped fails the test: the text is
 * then not in the form.
 */
export function indexLines(text: string, keys: readonly string[]): string[] | undefined {
  const nl = text.indexOf("\n");
  const tail = "\n}}\n";
  if (nl < 0 || !text.endsWith(tail) || !text.slice(0, nl).endsWith('"index":{')) return undefined;
  const body = text.slice(nl + 1, text.length - tail.length);
  const lines = body === "" ? [] : body.split(",\n");
  if (keys.length !== lines.length) return undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const line = lines[i]!;
    if (line.charCodeAt(0) !== 34 || !line.startsWith(key, 1) || line.charCodeAt(key.length + 1) !== 34 || line.charCodeAt(key.length + 2) !== 58)
      return undefined;
  }
  return lines;
}

/**
 * `oldText` (which parses to `oldDoc`) with the entries in `changes` replaced, added or (undefined)
 * removed, home part kept; undefined when `oldText` is not in the one-entry-a-line form (a file of
 * an earlier version, or edited by hand), which is then written whole. The form is proven, not
 * assumed: every line starts with its own key, in the order the parse found the keys, so no line
 * holds more or less than one entry (an entry's JSON has no raw line break).
 */
export function spliceIndexText(oldText: string, oldDoc: IndexDoc, changes: ReadonlyMap<string, EnvIndexEntry | undefined>): string | undefined {
  const { keys } = indexArrays(oldDoc.index);
  const lines = indexLines(oldText, keys);
  if (lines === undefined) return undefined;
  const at = changes.size > 16 ? new Map(keys.map((k, i) => [k, i])) : undefined;
  for (const [key, entry] of changes) {
    if (!Object.hasOwn(oldDoc.index, key)) continue;
    const i = at ? at.get(key)! : keys.indexOf(key);
    lines[i] = entry === undefined ? "" : entryLine(key, entry);
  }
  const out = changes.size === 0 ? lines : lines.filter((l) => l !== "");
  for (const [key, entry] of changes) if (entry !== undefined && !Object.hasOwn(oldDoc.index, key)) out.push(entryLine(key, entry));
  return joinIndexText(oldText.slice(0, oldText.indexOf("\n")), out);
}

// A CIDR as parseCidr accepts it (each octet ≤ 255, prefix ≤ 32), tested without parsing: every
// command that reads an index checks every entry's subnet.
const CIDR_TEXT = /^\s*(?:(?:[01]?\d?\d|2[0-4]\d|25[0-5])\.){3}(?:[01]?\d?\d|2[0-4]\d|25[0-5])\/(?:[0-2]?\d|3[0-2])\s*$/;

export function isCidrText(s: unknown): s is string {
  return typeof s === "string" && CIDR_TEXT.test(s);
}

/**
 * Problems of an index document: the home's, each entry's shape, subnets shared, hosts unknown.
 * One pass over arrays of the entries: every command that reads state runs it over every entry
 * the first time it reads a text. A write of some entries checks those only (`changeProblems`).
 */
export function indexProblems(doc: Partial<IndexDoc>): string[] {
  const problems = homeProblems(doc as Partial<State>);
  const index = doc.index;
  if (!isRecord(index)) {
    problems.push("`index` is missing or not an object");
    return problems;
  }
  const owners: SubnetOwner[] = [];
  const { keys, entries } = indexArrays(index as Record<string, EnvIndexEntry>);
  for (let i = 0; i < keys.length; i++) entryProblems(keys[i]!, entries[i], doc.hosts, problems, owners);
  problems.push(...subnetProblems(owners, doc.shared));
  return problems;
}

/**
 * The problems of a change of some entries of an index read and validated before (`base`, its
 * home part unchanged): each changed entry's own, and subnets shared among them or with an entry
 * left as it was. Reads no other entry but for its subnets.
 */
export function changeProblems(
  home: Omit<IndexDoc, "index">,
  base: Readonly<Record<string, EnvIndexEntry>>,
  changes: ReadonlyMap<string, EnvIndexEntry | undefined>,
): string[] {
  const problems = homeProblems(home as Partial<State>);
  const owners: SubnetOwner[] = [];
  for (const [key, entry] of changes) if (entry !== undefined) entryProblems(key, entry, home.hosts, problems, owners);
  problems.push(...subnetProblems(owners, home.shared));
  if (owners.length === 0) return problems;
  problems.push(...clashesWithUnchanged(owners, base, changes));
  return problems;
}

/** The changed entries' subnets (`owners`) that an entry of `base` left as it was holds too, on the same engine. */
function clashesWithUnchanged(
  owners: readonly SubnetOwner[],
  base: Readonly<Record<string, EnvIndexEntry>>,
  changes: ReadonlyMap<string, EnvIndexEntry | undefined>,
): string[] {
  const problems: string[] = [];
  const mine = new Map<string, SubnetOwner[]>(); // by subnet: looked up once per unchanged entry, nothing built for it
  for (const o of owners) {
    const list = mine.get(o.subnet);
    if (list) list.push(o);
    else mine.set(o.subnet, [o]);
  }
  const clash = (key: string, subnet: string, host: unknown, network?: string) => {
    const o = mine.get(subnet)?.find((x) => x.host === host);
    if (o !== undefined) {
      const them = network === undefined ? `"${key}"` : `"${key} (network ${network})"`;
      problems.push(`${them} and ${o.network === undefined ? `env "${o.key}"` : `network "${o.network}" of env "${o.key}"`} share subnet ${subnet}`);
    }
  };
  const { keys, entries } = indexArrays(base);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (changes.has(key)) continue;
    const e = entries[i]!;
    clash(key, e.subnet, e.host);
    if (e.extra_subnets !== undefined) for (const network in e.extra_subnets) clash(key, e.extra_subnets[network]!, e.host, network);
  }
  return problems;
}

/** One index entry's own problems, pushed to `problems`; its subnets pushed to `owners`. */
// `<project>/<env>`, each a DNS label (`HOST_LABEL`): one test, no slices, for every entry of every index read.
const ENV_KEY = new RegExp(`^${HOST_LABEL.source.slice(1, -1)}/${HOST_LABEL.source.slice(1, -1)}$`);
const STATUSES: ReadonlySet<unknown> = new Set(ENV_STATUSES);

function entryProblems(key: string, e: unknown, hosts: unknown, problems: string[], owners: SubnetOwner[]): void {
  if (!ENV_KEY.test(key)) {
    problems.push(`the index has the env key ${shown(key)}, which is not <project>/<env> of DNS labels`);
    return;
  }
  if (!isRecord(e)) {
    problems.push(`the index entry of ${shown(key)} is not an object`);
    return;
  }
  if (!STATUSES.has(e["status"])) problems.push(`the index entry of ${shown(key)} has unknown status ${shown(String(e["status"]))}`);
  const subnet = e["subnet"];
  const host = e["host"];
  if (!isCidrText(subnet)) problems.push(`the index entry of ${shown(key)} has no valid subnet`);
  else owners.push(typeof host === "string" ? { key, subnet, host } : { key, subnet });
  const extra = e["extra_subnets"];
  if (extra !== undefined) {
    if (!isRecord(extra)) problems.push(`the index entry of ${shown(key)} has an invalid extra_subnets map`);
    else
      for (const network in extra) {
        const x = extra[network];
        if (!isCidrText(x)) problems.push(`the index entry of ${shown(key)} has an invalid extra_subnets map`);
        else owners.push(typeof host === "string" ? { key, subnet: x, network, host } : { key, subnet: x, network });
      }
  }
  // Checked as a suffix here too, not only in the record: create's collision check picks envs by it.
  if (e["dns_suffix"] !== undefined && (typeof e["dns_suffix"] !== "string" || "why" in parseDnsSuffix(e["dns_suffix"])))
    problems.push(`the index entry of ${shown(key)} has the dns_suffix ${shown(e["dns_suffix"])}, which is not a DNS suffix`);
  const joined = e["shared_networks"];
  if (joined !== undefined && !(Array.isArray(joined) && joined.every((k) => typeof k === "string")))
    problems.push(`the index entry of ${shown(key)} has an invalid shared_networks list`);
  if (host !== undefined) for (const p of hostProblems(key, host, hosts)) problems.push(p);
  // What `cilo list` prints from the entry alone (a hand-edited index must be E_STATE_CORRUPT, not a crash).
  const services = e["services"];
  if (typeof services !== "number" || !Number.isInteger(services) || services < 0) problems.push(`the index entry of ${shown(key)} has no service count`);
  if (typeof e["created_at"] !== "string") problems.push(`the index entry of ${shown(key)} has no created_at time`);
  const pid = e["owner_pid"];
  if (pid !== undefined && !(typeof pid === "number" && Number.isInteger(pid) && pid > 0))
    problems.push(`the index entry of ${shown(key)} has an invalid owner_pid`);
  if (e["lease"] !== undefined && e["lease"] !== "mcp") problems.push(`the index entry of ${shown(key)} has an unknown lease ${shown(String(e["lease"]))}`);
  if (e["expires_at"] !== undefined && (typeof e["expires_at"] !== "string" || Number.isNaN(Date.parse(e["expires_at"]))))
    problems.push(`the index entry of ${shown(key)} has an invalid expires_at time`);
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
    const out = this.deleted.size === 0 ? indexArrays(this.index).keys.slice() : indexArrays(this.index).keys.filter((k) => !this.deleted.has(k));
    for (const k of this.loaded.keys()) if (!Object.hasOwn(this.index, k)) out.push(k);
    return out;
  }

  /** Calls `fn` with every env's key and current index entry, copying nothing (one pass over the index). */
  forEach(fn: (key: string, entry: EnvIndexEntry) => void): void {
    const { index, loaded, deleted } = this;
    const { keys, entries } = indexArrays(index);
    const plain = loaded.size === 0 && deleted.size === 0;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (plain) {
        fn(k, entries[i]!);
        continue;
      }
      if (deleted.has(k)) continue;
      const l = loaded.get(k);
      fn(k, l ? indexEntryOf(l.rec) : entries[i]!);
    }
    for (const [k, l] of loaded) if (!Object.hasOwn(index, k)) fn(k, indexEntryOf(l.rec));
  }

  /** Every record, loaded once (enumeration: `Object.values(state.envs)`). */
  loadAll(): string[] {
    if (!this.all) {
      for (const k of indexArrays(this.index).keys) this.get(k);
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

/**
 * An index's keys and entries as arrays, made once per index object (an index is never changed
 * after it is parsed): a parsed index of thousands of keys is a dictionary-mode object, which
 * `for…in` walks slowly; the passes over every entry (subnets, names, dependants) walk arrays.
 */
const arraysOf = new WeakMap<object, { keys: string[]; entries: EnvIndexEntry[] }>();

export function indexArrays(index: Readonly<Record<string, EnvIndexEntry>>): { keys: string[]; entries: EnvIndexEntry[] } {
  let a = arraysOf.get(index);
  if (!a) {
    a = { keys: Object.keys(index), entries: Object.values(index) };
    arraysOf.set(index, a);
  }
  return a;
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
