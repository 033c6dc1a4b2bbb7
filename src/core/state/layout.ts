import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CiloError, messageOf } from "../errors.ts";
import { isHostLabel, shown } from "../dns-names.ts";
import { entryProblems, indexEntryOf, type EnvIndexEntry, type IndexDoc } from "./index-entry.ts";
import { type IndexView, lineHints, sealParts, unsealedHead, viewOf, type IndexLite } from "./index-view.ts";
import { type Cidr, cidrEnd, parseCidr } from "../cidr.ts";
import type { EnvRecord, State } from "./schema.ts";
import { envRecordProblems, homeProblems, subnetProblems, type SubnetOwner } from "./validate.ts";

/*
 * The state on disk since schema 3 (docs/state.md, "Layout"): `state.json` holds the home (version,
 * id, config, hosts, shared instances) and a small index with one entry per env; each env's whole
 * record is its own file, `records/<project>/<env>.json`. A single-env operation reads, validates
 * and writes the index and that env's file only. In memory the state keeps its shape
 * (`state.envs[key]`): `envs` loads a record when it is first asked for, and every record when
 * they are enumerated (`Object.values`), so callers that need all envs get them at today's cost.
 */

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
  const { index, index_sha1: _seal, ...home } = doc as IndexDoc & { index_sha1?: unknown };
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

/** The sealed text (index-view.ts) of a home line (no seal) and entry lines. */
function joinIndexText(head: string, lines: readonly string[]): string {
  return sealParts(head, lines);
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
  const view = viewOf(oldDoc.index);
  if (view?.text === oldText) {
    // A sealed text: its lines are the renderer's, found by key (no pass over the others).
    const lines = new Map<string, string | undefined>();
    for (const [key, entry] of changes) lines.set(key, entry === undefined ? undefined : entryLine(key, entry));
    const { parts, same, lines: at } = view.splice(lines);
    const text = sealParts(unsealedHead(oldText), parts, { text: oldText, start: view.start, same });
    lineHints(text, at);
    return text;
  }
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
  return joinIndexText(unsealedHead(oldText), out);
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
  // A subnet an entry held already in `base` (same network, same host) was unique there; the
  // changed entries were checked among themselves above. Only new or moved subnets are looked up.
  const moved = owners.filter((o) => !heldBefore(o, base));
  if (moved.length === 0) return problems;
  problems.push(...clashesWithUnchanged(moved, base, changes));
  return problems;
}

function heldBefore(o: SubnetOwner, base: Readonly<Record<string, EnvIndexEntry>>): boolean {
  const b = base[o.key];
  if (b === undefined || b.host !== o.host) return false;
  return o.network === undefined ? b.subnet === o.subnet : b.extra_subnets?.[o.network] === o.subnet;
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
  const check = (key: string, e: IndexLite) => {
    if (changes.has(key)) return;
    clash(key, e.subnet, e.host);
    if (e.extra_subnets !== undefined) for (const network in e.extra_subnets) clash(key, e.extra_subnets[network]!, e.host, network);
  };
  const view = viewOf(base);
  if (view) {
    // A sealed index: only the lines where one of these subnets is written can hold it.
    for (const key of view.keysMentioningValue([...mine.keys()])) {
      const e = view.get(key);
      if (e) check(key, e);
    }
    return problems;
  }
  const { keys, lites } = liteArrays(base);
  for (let i = 0; i < keys.length; i++) check(keys[i]!, lites[i]!);
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
    if (this.deleted.has(key) || !this.inIndex(key)) return undefined;
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
    return this.loaded.has(key) || (this.inIndex(key) && !this.deleted.has(key));
  }

  /** Keys without loading anything: the index's (minus deleted) then new ones. */
  keys(): string[] {
    const keys = keysOf(this.index);
    const out = this.deleted.size === 0 ? keys.slice() : keys.filter((k) => !this.deleted.has(k));
    for (const k of this.loaded.keys()) if (!this.inIndex(k)) out.push(k);
    return out;
  }

  /**
   * Calls `fn` with every env's key and what a pass reads of its entry (subnets, host, status,
   * shared networks, DNS suffix): of a sealed index without parsing every entry (index-view.ts).
   */
  forEachLite(fn: (key: string, entry: IndexLite) => void): void {
    const { index, loaded, deleted } = this;
    const { keys, lites } = liteArrays(index);
    const plain = loaded.size === 0 && deleted.size === 0;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (plain) {
        fn(k, lites[i]!);
        continue;
      }
      if (deleted.has(k)) continue;
      const l = loaded.get(k);
      fn(k, l ? indexEntryOf(l.rec) : lites[i]!);
    }
    for (const [k, l] of loaded) if (!this.inIndex(k)) fn(k, indexEntryOf(l.rec));
  }

  /** The keys of the envs named `env` in any project (reads no entry; of a sealed index, scans no line). */
  keysNamed(env: string): string[] {
    const view = viewOf(this.index);
    const keys = view ? view.keysNamed(env) : this.keys().filter((k) => k.endsWith(`/${env}`) && k.indexOf("/") === k.length - env.length - 1);
    if (!view) return keys;
    const out = keys.filter((k) => !this.deleted.has(k));
    for (const k of this.loaded.keys()) if (k.endsWith(`/${env}`) && k.indexOf("/") === k.length - env.length - 1 && !out.includes(k)) out.push(k);
    return out;
  }

  /** Whether the index read lists `key` (reads no entry). */
  inIndex(key: string): boolean {
    const view = viewOf(this.index);
    return view ? view.has(key) : Object.hasOwn(this.index, key);
  }

  /** Every record, loaded once (enumeration: `Object.values(state.envs)`). */
  loadAll(): string[] {
    if (!this.all) {
      for (const k of keysOf(this.index)) this.get(k);
      this.all = true;
    }
    return this.keys().filter((k) => this.loaded.has(k));
  }

  /** The index as the current records and entries make it (unloaded envs keep their entry). */
  currentIndex(): Record<string, EnvIndexEntry> {
    const base = viewOf(this.index)?.all() ?? this.index;
    if (this.deleted.size === 0 && this.loaded.size === 0) return base;
    const out: Record<string, EnvIndexEntry> = { ...base };
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
    const whole = viewOf(index)?.all() ?? index; // a sealed index's entries, parsed and checked whole
    a = { keys: Object.keys(whole), entries: Object.values(whole) };
    arraysOf.set(index, a);
  }
  return a;
}

/** An index's keys: of a sealed index by a scan of its lines, no entry parsed. */
function keysOf(index: Readonly<Record<string, EnvIndexEntry>>): string[] {
  return viewOf(index)?.keys() ?? indexArrays(index).keys;
}

/** An index's keys and what a pass reads of each entry: of a sealed index without parsing every entry. */
function liteArrays(index: Readonly<Record<string, EnvIndexEntry>>): { keys: string[]; lites: IndexLite[] } {
  const view = viewOf(index);
  if (view) return view.scan();
  const { keys, entries } = indexArrays(index);
  return { keys, lites: entries };
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

/**
 * The keys of the envs whose `shared_networks` hold `key`, reading no record: of a sealed index
 * only the lines that name `key` are parsed (index-view.ts).
 */
export function envKeysJoining(state: State, key: string): string[] {
  const lazy = lazyEnvsOf(state);
  const view = lazy ? viewOf(lazy.index) : undefined;
  const out: string[] = [];
  if (!lazy || !view) {
    forEachIndexLite(state, (k, e) => {
      if (e.shared_networks?.includes(key)) out.push(k);
    });
    return out;
  }
  for (const k of view.keysMentioning(key)) {
    if (!lazy.deleted.has(k) && !lazy.loaded.has(k) && view.get(k)?.shared_networks?.includes(key)) out.push(k);
  }
  for (const [k, l] of lazy.loaded) if (l.rec.shared_networks?.includes(key)) out.push(k);
  return out;
}

/**
 * Every env's subnets in two parts, reading no record: `plain`, the own subnets of the envs on
 * this machine's engine without extra subnets (from a sealed index by one scan of its lines'
 * fixed prefix, no entry parsed), and `whole`, every other env's key and entry (on a host, with
 * extra subnets, changed in this state object, or named in `whole`). Subnet allocation's pass.
 */
export function indexSubnets(state: State, whole: readonly string[] = []): { plain: string[]; whole: [string, IndexLite][] } {
  const lazy = lazyEnvsOf(state);
  const view = lazy ? viewOf(lazy.index) : undefined;
  if (!lazy || !view) return { plain: [], whole: allLites(state) };
  const plain = view.ownSubnets().slice();
  const out = specialSubnets(lazy, view, whole, (e) => {
    const i = plain.indexOf(e.subnet);
    if (i >= 0) plain.splice(i, 1);
  });
  return { plain, whole: out };
}

/**
 * `indexSubnets` with the plain envs' subnets as numbers, and of those only the ones that overlap
 * `within` (subnet allocation's pool: no other can change what it picks), read from the lines
 * without a string made per env. Create's pass over every env.
 */
export function indexSubnetBlocks(state: State, within: Cidr, whole: readonly string[] = []): { plain: Cidr[]; whole: [string, IndexLite][] } {
  const lazy = lazyEnvsOf(state);
  const view = lazy ? viewOf(lazy.index) : undefined;
  if (!lazy || !view) return { plain: [], whole: allLites(state) };
  const plain: Cidr[] = view.ownSubnetsWithin(within.base, cidrEnd(within));
  const out = specialSubnets(lazy, view, whole, (e) => {
    const c = parseCidr(e.subnet);
    const i = c ? plain.findIndex((p) => p.base === c.base && p.prefix === c.prefix) : -1;
    if (i >= 0) plain.splice(i, 1);
  });
  return { plain, whole: out };
}

function allLites(state: State): [string, IndexLite][] {
  const all: [string, IndexLite][] = [];
  forEachIndexLite(state, (k, e) => all.push([k, e]));
  return all;
}

/**
 * The envs whose subnets are not read from their line's prefix (on a host, with extra subnets,
 * named in `whole`, deleted or changed in this state object): `drop` is given the entry of each
 * such line, whose own subnet it leaves out of the plain ones; the envs still in the state are
 * returned whole.
 */
function specialSubnets(lazy: LazyEnvs, view: IndexView, whole: readonly string[], drop: (e: IndexLite) => void): [string, IndexLite][] {
  const out: [string, IndexLite][] = [];
  const special = new Set([...view.keysWith(',"host":"'), ...view.keysWith(',"extra_subnets":{'), ...whole, ...lazy.deleted, ...lazy.loaded.keys()]);
  for (const key of special) {
    if (lazy.inIndex(key)) {
      const e = view.get(key);
      if (e) drop(e);
    }
    if (lazy.deleted.has(key)) continue;
    const l = lazy.loaded.get(key);
    const e = l ? indexEntryOf(l.rec) : view.get(key);
    if (e) out.push([key, e]);
  }
  return out;
}

/**
 * The DNS suffixes of the running envs (`machineSuffix` for those without their own), reading no
 * record: of a sealed index, the lines with a suffix of their own and the first running line
 * without one, found by their text.
 */
export function runningSuffixes(state: State, machineSuffix: string): Set<string> {
  const out = new Set<string>();
  const lazy = lazyEnvsOf(state);
  const view = lazy ? viewOf(lazy.index) : undefined;
  if (!lazy || !view) {
    forEachIndexLite(state, (_k, e) => {
      if (e.status === "running") out.add(e.dns_suffix ?? machineSuffix);
    });
    return out;
  }
  const own = new Set(view.keysWith(',"dns_suffix":"'));
  const changed = (k: string) => lazy.deleted.has(k) || lazy.loaded.has(k);
  for (const k of own) {
    if (changed(k)) continue;
    const e = view.get(k);
    if (e?.status === "running") out.add(e.dns_suffix ?? machineSuffix);
  }
  if (view.keysWith(':{"status":"running",', (k) => !own.has(k) && !changed(k)).length > 0) out.add(machineSuffix);
  for (const [k, l] of lazy.loaded) if (!lazy.deleted.has(k) && l.rec.status === "running") out.add(l.rec.dns_suffix ?? machineSuffix);
  return out;
}

/**
 * The keys of the envs whose entry passes `test`, reading no record: of a sealed index only the
 * lines that hold `needle` (the text of the field `test` needs, e.g. `,"dns_suffix":"`) are parsed.
 */
export function envKeysWhere(state: State, needle: string, test: (e: IndexLite) => boolean): string[] {
  const lazy = lazyEnvsOf(state);
  const view = lazy ? viewOf(lazy.index) : undefined;
  const out: string[] = [];
  if (!lazy || !view) {
    forEachIndexLite(state, (k, e) => {
      if (test(e)) out.push(k);
    });
    return out;
  }
  for (const k of view.keysWith(needle)) {
    if (lazy.deleted.has(k) || lazy.loaded.has(k)) continue;
    const e = view.get(k);
    if (e && test(e)) out.push(k);
  }
  for (const [k, l] of lazy.loaded) if (test(indexEntryOf(l.rec))) out.push(k);
  return out;
}

/** The keys of the envs named `env`, in any project, reading no record. */
export function envKeysNamed(state: State, env: string): string[] {
  const lazy = lazyEnvsOf(state);
  return lazy ? lazy.keysNamed(env) : Object.keys(state.envs).filter((k) => k.endsWith(`/${env}`) && k.indexOf("/") === k.length - env.length - 1);
}

/**
 * Calls `fn` with every env's key and what a pass over every env reads of its entry (subnets,
 * host, status, shared networks, DNS suffix), reading no record and, of a sealed index, parsing
 * only the entries that hold more than a status and a subnet. For the passes a single-env command
 * makes (subnet allocation, dependants, DNS names): their cost stays flat in the number of envs.
 */
export function forEachIndexLite(state: State, fn: (key: string, entry: IndexLite) => void): void {
  const lazy = lazyEnvsOf(state);
  if (lazy) lazy.forEachLite(fn);
  else for (const [k, rec] of Object.entries(state.envs)) fn(k, indexEntryOf(rec));
}
