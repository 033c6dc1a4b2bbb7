import {
  type BigIntStats,
  closeSync,
  copyFileSync,
  existsSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { knownStateText } from "../known-state-text.ts";
import { dirname, join } from "node:path";
import { isHostLabel } from "../dns-names.ts";
import { CiloError, ExitCode, messageOf, prerequisiteError } from "../errors.ts";
import { failpoint } from "../failpoint.ts";
import { fsyncDir, writeFileAtomic } from "../fs/atomic-write.ts";
import { fsFault } from "../fs/fs-fault.ts";
import { lockTimeoutMs, withFileLock } from "../fs/file-lock.ts";
import { statePath } from "../paths.ts";
import { isRecord } from "../is-record.ts";
import type { HomeRef } from "../labels.ts";
import { indexEntryOf, indexProblems, type EnvIndexEntry, type IndexDoc } from "./index-entry.ts";
import { IndexView, indexOfView, openSealed, viewOf } from "./index-view.ts";
import {
  attachLazy,
  changeProblems,
  encodeRecord,
  LazyEnvs,
  lazyEnvsOf,
  parseRecord,
  readRecordText,
  recordPath,
  recordsDir,
  renderIndexText,
  spliceIndexText,
  type Loaded,
} from "./layout.ts";
import { LAYOUT_VERSION, migrate, newHomeId } from "./migrations.ts";
import { emptyState, STATE_VERSION, type EnvRecord, type State, type StateConfig } from "./schema.ts";
import { envRecordProblems, homeProblems, validateState } from "./validate.ts";

export function backupPath(file: string): string {
  return `${file}.bak`;
}

/**
 * What the state functions use of a `CiloContext`: its home, and its environment (crash injection,
 * lock timeout). Any context is one.
 */
export interface StateHome {
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
}

/** This home's identity: the id kept in its state, and its folder. */
export function homeRef(state: State, home: string): HomeRef {
  return { id: state.home_id, path: home };
}

/**
 * The index texts read or written, per file (known-text.ts). Record files have the same memo (`knownRecords`).
 * `id`: the identity of the file that held `text` (fileId): while state.json still has it, the
 * text is taken without reading the file again.
 */
interface Memo {
  text: string;
  doc?: IndexDoc;
  sealedHere?: boolean;
  id?: string | undefined;
  /** The bytes this process wrote `text` as (applyWrite). */
  bytes?: Buffer;
}
const known = knownStateText as Map<string, Memo>;

/**
 * What identifies one content of state.json without reading it: the file (device, inode), its
 * size, and its change and modification times (ns). cilo never changes the file in place (each
 * write is a new file renamed over it, and the `.bak` link changes the ctime of the one it keeps),
 * and any change in place (an edit by hand, a copy over it) sets its ctime. A file system's clock
 * may be coarse (a tick of up to 10 ms): a change in the same tick as the last one can leave the
 * ctime as it was. So an id is given only to a file whose ctime was at least `SETTLED_MS` old when
 * it was taken: any later change is stamped later. Undefined: the file is read again next time.
 */
function fileId(st: BigIntStats, now = Date.now()): string | undefined {
  if (now - Number(st.ctimeNs / 1_000_000n) < SETTLED_MS) return undefined;
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}
const SETTLED_MS = 20;

/**
 * state.json's text and the id of the file that holds it: the known text, without reading the
 * file, while the file is the one it was read from or written as (same fileId); else the file read
 * whole (its id taken before reading, from the open file: a change while it is read gives another
 * id next time, and the file is read again).
 */
function readIndexText(file: string): { text: string; id: string | undefined } {
  const memo = known.get(file);
  if (memo?.id !== undefined) {
    let st: BigIntStats | undefined;
    try {
      st = statSync(file, { bigint: true, throwIfNoEntry: false });
    } catch {
      st = undefined; // read below, which says why
    }
    if (st !== undefined && fileId(st) === memo.id) return { text: memo.text, id: memo.id };
  }
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw prerequisiteError("E_NOT_INITIALISED", `cilo is not initialised: ${file} does not exist`, "Run: cilo init");
    }
    throw new CiloError("E_STATE_READ", `Cannot read ${file}: ${messageOf(e)}`);
  }
  try {
    const st = fstatSync(fd, { bigint: true });
    const id = fileId(st);
    if (memo?.bytes !== undefined && st.size === BigInt(memo.bytes.length)) {
      // The file this process wrote, too recent for its id to be trusted: its bytes are compared
      // with those written, and the text is not decoded again when they are the same.
      const bytes = readFileSync(fd);
      return { text: bytes.equals(memo.bytes) ? memo.text : bytes.toString("utf8"), id };
    }
    return { text: readFileSync(fd, "utf8"), id };
  } catch (e) {
    throw new CiloError("E_STATE_READ", `Cannot read ${file}: ${messageOf(e)}`);
  } finally {
    closeSync(fd);
  }
}

/** What a known text (an index) parses to, once: a sealed text over a view of its lines (index-view.ts). */
function docOf(memo: Memo, file: string): IndexDoc {
  if (!memo.doc) {
    const parsed = parseStateText(memo.text, file, memo.sealedHere);
    if (parsed.kind !== "index") throw new CiloError("E_STATE_INVALID", `${file}: expected an index text`);
    memo.doc = parsed.doc;
  }
  return memo.doc;
}
const knownRecords = new Map<string, { text: string; rec?: EnvRecord }>();

/**
 * Reads the state without locking (writes are atomic, so a reader sees whole files). The index is
 * read now, each env's record when it is first asked for (docs/state.md, "Layout"). Read it, never
 * change it (changes go through `withState`).
 */
export function readState(at: Pick<StateHome, "home">): State {
  const file = statePath(at.home);
  const { text, id } = readIndexText(file);
  const memo = known.get(file);
  if (memo?.text === text) {
    memo.id = id;
    return lazyState(at.home, docOf(memo, file), "read"); // validated already (read, or written after validation)
  }
  const parsed = parseStateText(text, file);
  if (parsed.kind === "full") return parsed.state; // an older home, migrated in memory until its first write
  known.set(file, { text, doc: parsed.doc, id });
  return lazyState(at.home, parsed.doc, "read");
}

/**
 * Parses and validates a state file's text: an index (schema 3), or an older whole state (migrated
 * in memory, envs included); E_STATE_CORRUPT when it is not valid. For an index only the home and
 * the index are checked; records are checked as they are read.
 */
type Parsed = { kind: "index"; doc: IndexDoc } | { kind: "full"; state: State };

function parseStateText(text: string, file: string, sealedHere = false): Parsed {
  const sealed = openSealed(text, sealedHere);
  if (sealed) {
    // Written whole by cilo from checked entries (index-view.ts): the home is parsed and checked
    // now, each entry when it is read, every entry at once only by a pass that needs them all.
    let home: unknown;
    try {
      home = JSON.parse(`${sealed.head}}}`);
    } catch (e) {
      throw corrupt(file, `its first line is not valid JSON (${messageOf(e)})`);
    }
    if (isRecord(home) && home["version"] === STATE_VERSION) {
      const problems = homeProblems(home as Partial<State>);
      if (problems.length > 0) throw corrupt(file, problems[0]!);
      const doc = home as unknown as IndexDoc;
      const fail = (why: string): never => {
        throw corrupt(file, why);
      };
      const view = new IndexView(text, sealed.start, doc.hosts, fail, (index) => {
        const all = indexProblems({ ...doc, index });
        if (all.length > 0) fail(all[0]!);
      });
      doc.index = indexOfView(view) as Record<string, EnvIndexEntry>;
      return { kind: "index", doc };
    }
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw corrupt(file, `it is not valid JSON (${messageOf(e)})`);
  }
  if (isRecord(doc)) delete doc["index_sha1"]; // a seal that does not hold (an edit by hand): the text is checked whole
  const version = isRecord(doc) && typeof doc["version"] === "number" ? doc["version"] : 0;
  if (version >= LAYOUT_VERSION) {
    const { state } = migrate(doc, { homeDir: dirname(file) }); // refuses a newer schema
    const problems = indexProblems(state as unknown as IndexDoc);
    if (problems.length > 0) throw corrupt(file, problems[0]!);
    return { kind: "index", doc: state as unknown as IndexDoc };
  }
  const { state } = migrate(doc, { homeDir: dirname(file) });
  const problems = validateState(state);
  if (problems.length > 0) throw corrupt(file, problems[0]!);
  return { kind: "full", state };
}

/**
 * The whole state in `text` (a state file or its backup) with every env: an index's records are
 * read from `home`'s record files. E_STATE_CORRUPT when it, or a record, is not valid; an index
 * entry without its record is left out (doctor reports it).
 */
export function parseState(text: string, file: string, home: string = dirname(file)): State {
  const parsed = parseStateText(text, file);
  if (parsed.kind === "full") return parsed.state;
  viewOf(parsed.doc.index)?.all(); // every entry, checked together
  const state = lazyState(home, parsed.doc, "read");
  Object.values(state.envs);
  return state;
}

/** A state object over an index: its `envs` reads each record on first use. */
function lazyState(home: string, doc: IndexDoc, mode: "read" | "change"): State {
  const { index, ...rest } = doc;
  const homeId = doc.home_id;
  const hosts = doc.hosts;
  const load = (key: string): Loaded | undefined => {
    const file = recordPath(home, key);
    const text = readRecordText(file);
    if (text === undefined) {
      if (mode === "change") {
        throw new CiloError("E_STATE_CORRUPT", `The state index ${statePath(home)} lists the env ${key} but its record ${file} is missing`, {
          hint: "Run cilo doctor --fix to drop the entry",
        });
      }
      return undefined;
    }
    const memo = knownRecords.get(file);
    if (memo?.text === text) {
      if (mode === "change") return { text, rec: JSON.parse(text) as EnvRecord };
      memo.rec ??= JSON.parse(text) as EnvRecord;
      return { text, rec: memo.rec };
    }
    const rec = parseRecord(text, file, key, homeId, hosts);
    // Subnets are unique by the index; under the lock a record must hold what its entry says (a
    // reader may see a record written after the index it read, and takes the record).
    if (mode === "change" && subnetsOf(rec) !== subnetsOf(index[key]!)) {
      throw new CiloError("E_STATE_CORRUPT", `The env record ${file} holds subnets ${subnetsOf(rec)} but the state index lists ${subnetsOf(index[key]!)}`, {
        hint: "Run cilo doctor --fix to rewrite the index entry from the record",
      });
    }
    if (mode === "change") {
      knownRecords.set(file, { text }); // the parsed object is the caller's to change, not the readers'
    } else {
      knownRecords.set(file, { text, rec });
    }
    return { text, rec };
  };
  // The index object is never changed (LazyEnvs keeps changes beside it), so a change shares it with readers.
  const lazy = new LazyEnvs(home, index, load, mode);
  const state = { ...(mode === "change" ? (JSON.parse(JSON.stringify(rest)) as typeof rest) : rest), envs: lazy.proxy() } as State;
  attachLazy(state, lazy);
  return state;
}

function subnetsOf(e: { subnet: string; extra_subnets?: Record<string, string> }): string {
  return [e.subnet, ...Object.entries(e.extra_subnets ?? {}).map(([n, s]) => `${n}=${s}`)].join(" ");
}

/** A changeable state: over the index (schema 3), or a whole older state every record of which is to be written. */
function stateForChange(read: { text: string; id?: string | undefined }, file: string, home: string): { state: State; oldText: string | undefined } {
  const { text, id } = read;
  const memo = known.get(file);
  if (memo?.text !== text) {
    const parsed = parseStateText(text, file);
    if (parsed.kind !== "index") return { state: migrateLayout(home, parsed.state), oldText: undefined };
    known.set(file, { text, doc: parsed.doc, id });
  } else {
    memo.id = id;
  }
  // Shared with readers: lazyState's change mode copies what it lets `fn` change (the index object, the home part).
  return { state: lazyState(home, docOf(known.get(file)!, file), "change"), oldText: text };
}

/**
 * An older whole state as a changeable state of schema 3 whose records are all new: the write
 * that follows makes the new layout (records first, then `state.json` in one rename: a crash
 * before it leaves the old file, which the next command migrates again).
 */
function migrateLayout(home: string, full: State): State {
  const { envs, ...rest } = full;
  const lazy = new LazyEnvs(home, {}, () => undefined, "change");
  for (const [key, rec] of Object.entries(envs)) lazy.set(key, rec);
  const state = { ...rest, version: STATE_VERSION, envs: lazy.proxy() } as State;
  attachLazy(state, lazy);
  return state;
}

function corrupt(file: string, why: string): CiloError {
  const bak = backupPath(file);
  const hint = existsSync(bak)
    ? `The last good state is kept in ${bak}; run cilo doctor --fix to restore it, or copy it over ${file}`
    : `No backup exists; move ${file} aside and run cilo init to start afresh`;
  return new CiloError("E_STATE_CORRUPT", `The state file ${file} is corrupt: ${why}`, { hint });
}

/**
 * The one way to change state: takes the inter-process lock, reads, applies `fn` (which mutates the
 * state it is given), validates what changed, keeps the previous files as `.bak` and writes
 * atomically: the records that changed first, then `state.json` (the index) when it changed, then
 * removes the records of envs deleted. `fn`'s return value is passed through. When `fn` throws,
 * nothing is written.
 */
export async function withState<T>(at: StateHome, fn: (state: State) => T | Promise<T>): Promise<T> {
  const file = statePath(at.home);
  if (!existsSync(file)) {
    throw prerequisiteError("E_NOT_INITIALISED", `cilo is not initialised: ${file} does not exist`, "Run: cilo init");
  }
  let dirs: string[] = [];
  const result = await withFileLock(file, lockTimeoutMs(at.env), async (isCompromised) => {
    failpoint(at.env, "state:locked");
    const { state, oldText } = stateForChange(readIndexText(file), file, at.home);
    const result = await fn(state);
    const plan = planWrite(at.home, state, oldText, "E_STATE_INVALID");
    if (isCompromised()) {
      throw new CiloError("E_STATE_LOCK_LOST", `The state lock on ${file} was taken over while this command held it; nothing was written`, {
        hint: "Run the command again",
      });
    }
    dirs = applyWrite(at.home, plan, at.env);
    return result;
  });
  // The folder is synced after the lock is released (shorter for the next waiter), but before this
  // returns: a change is durable before anything acts on it. A process that read it meanwhile
  // writes a state that holds it, synced the same way, so no durable state depends on a lost one.
  for (const dir of dirs) fsyncDir(dir);
  return result;
}

interface WritePlan {
  records: { key: string; file: string; text: string }[];
  removed: { key: string; file: string }[];
  indexText: string | undefined;
}

/** What a change writes, validated: the records whose text changed, the index if it changed, the records to remove. */
function planWrite(homeDir: string, state: State, oldText: string | undefined, code: "E_STATE_INVALID" | "E_USAGE"): WritePlan {
  const lazy = lazyEnvsOf(state);
  if (!lazy) throw new CiloError("E_STATE_INVALID", "Refusing to write a state that was not read through the store");
  const refuse = (why: string) =>
    code === "E_USAGE"
      ? new CiloError("E_USAGE", `Invalid configuration: ${why}`, { exitCode: ExitCode.usage })
      : new CiloError("E_STATE_INVALID", `Refusing to write an invalid state: ${why}`);
  const { envs: _envs, ...rest } = state;
  const home = { ...rest, version: STATE_VERSION };
  const base = validatedBase(home, lazy, oldText);
  // The entries of records read or deleted: only they can have changed.
  const changes = new Map<string, EnvIndexEntry | undefined>();
  for (const key of lazy.deleted) changes.set(key, undefined);
  for (const [key, l] of lazy.loaded) changes.set(key, indexEntryOf(l.rec));
  let indexText: string;
  if (base !== undefined && oldText !== undefined) {
    const problems = changeProblems(home, base.index, changes);
    if (problems.length > 0) throw refuse(problems[0]!);
    indexText = spliceIndexText(oldText, base, changes) ?? renderIndexText({ ...home, index: lazy.currentIndex() });
  } else {
    const doc: IndexDoc = { ...home, index: lazy.currentIndex() };
    const problems = indexProblems(doc);
    if (problems.length > 0) throw refuse(problems[0]!);
    indexText = renderIndexText(doc);
  }
  const records: WritePlan["records"] = [];
  for (const [key, l] of lazy.loaded) {
    const text = encodeRecord(l.rec);
    if (text === l.text) continue;
    const p = envRecordProblems(key, l.rec, home.home_id, home.hosts);
    if (p.length > 0) throw refuse(p[0]!);
    records.push({ key, file: recordPath(homeDir, key), text });
  }
  const removed = [...lazy.deleted].filter((k) => !lazy.loaded.has(k)).map((key) => ({ key, file: recordPath(homeDir, key) }));
  return { records, removed, indexText: indexText === oldText ? undefined : indexText };
}

/**
 * The index a write changes, when only some of its entries can have changed: `oldText` is an
 * index this process validated (every `stateForChange` text is) and the home part (config, hosts,
 * shared instances…) is unchanged, so the other entries are as valid as they were. Undefined:
 * check and write every entry.
 */
function validatedBase(home: Omit<IndexDoc, "index">, lazy: LazyEnvs, oldText: string | undefined): IndexDoc | undefined {
  const memo = known.get(statePath(lazy.home));
  const old = oldText !== undefined && memo?.text === oldText ? docOf(memo, statePath(lazy.home)) : undefined;
  if (!old) return undefined;
  const { index: _b, ...oldHome } = old;
  return JSON.stringify(home) === JSON.stringify(oldHome) ? old : undefined;
}

/**
 * Writes a plan: records (each atomically, the previous kept as `<file>.bak`), their folders
 * synced, then the index (the previous kept as `state.json.bak`), then removes deleted records.
 * Returns the folders still to sync. Order makes a crash recoverable: a record is on disk before
 * the index lists it, and the index drops an env before its record goes (docs/state.md).
 */
function applyWrite(home: string, plan: WritePlan, env: NodeJS.ProcessEnv): string[] {
  const file = statePath(home);
  const recordDirs = new Set<string>();
  for (const r of plan.records) {
    const dir = dirname(r.file);
    if (!recordDirs.has(dir)) {
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
      } catch (e) {
        throw fsFault(e, dir) ?? e; // a full disk, read-only mount…: one line naming the folder
      }
    }
    recordDirs.add(dir);
    if (existsSync(r.file)) keepBackup(r.file);
    writeFileAtomic(r.file, r.text, 0o600, env, { syncDir: false });
    knownRecords.set(r.file, { text: r.text });
  }
  if (plan.records.length > 0) failpoint(env, "state:records-written");
  if (plan.indexText !== undefined) {
    for (const dir of recordDirs) fsyncDir(dir); // the records are durable before the index names them
    if (existsSync(file)) keepBackup(file);
    const bytes = Buffer.from(plan.indexText, "utf8");
    writeFileAtomic(file, bytes, 0o600, env, { syncDir: false });
    // Validated and sealed by this write: read again, neither is done twice. The file is too
    // recent for its id to be trusted (fileId): the next read compares it with the bytes written.
    known.set(file, { text: plan.indexText, sealedHere: true, bytes });
  }
  const dirs = plan.indexText !== undefined ? [home] : [...recordDirs];
  for (const r of plan.removed) {
    for (const f of [r.file, backupPath(r.file)]) {
      try {
        unlinkSync(f);
      } catch {
        // gone already
      }
    }
    knownRecords.delete(r.file);
    if (!dirs.includes(dirname(r.file))) dirs.push(dirname(r.file));
  }
  return dirs;
}

function keepBackup(file: string): void {
  // state.json and records are only ever replaced by rename, never changed in place, so a hard
  // link to the current inode is a free, durable copy of the last good one.
  const bak = backupPath(file);
  const tmp = `${bak}.${process.pid}.tmp`;
  try {
    try {
      unlinkSync(tmp);
    } catch {
      /* none */
    }
    linkSync(file, tmp);
    renameSync(tmp, bak);
  } catch {
    // A file system without hard links: the backup is best effort.
  }
}

/**
 * Replaces a corrupt `state.json` with its backup, which must itself be valid (else
 * E_STATE_CORRUPT naming the backup). The corrupt file is kept as `state.json.corrupt-<time>`,
 * whose path is returned. The changes of the last write before the corruption are lost (records
 * keep theirs; `cilo doctor` reports a record the restored index does not list).
 */
export async function restoreBackup(at: StateHome): Promise<string> {
  const file = statePath(at.home);
  const bak = backupPath(file);
  return withFileLock(file, lockTimeoutMs(at.env), async () => {
    const text = readFileSync(bak, "utf8");
    const parsed = parseStateText(text, bak);
    const kept = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    if (existsSync(file)) copyFileSync(file, kept);
    if (parsed.kind === "index") {
      writeFileAtomic(file, text, 0o600, at.env);
      known.set(file, { text });
    } else {
      // a backup of the old single file: migrated again, records first
      const state = migrateLayout(at.home, parsed.state);
      const dirs = applyWrite(at.home, planWrite(at.home, state, undefined, "E_STATE_INVALID"), at.env);
      for (const dir of dirs) fsyncDir(dir);
    }
    return kept;
  });
}

/**
 * Restores one env's corrupt record from its `.bak` (which must be a valid record of that env),
 * keeping the corrupt file as `<file>.corrupt-<time>`; without a valid backup the record is moved
 * aside and the env dropped from the index. Says what it did.
 */
export async function repairRecord(at: StateHome, key: string): Promise<string> {
  return withIndexOnly(at, (doc) => {
    const file = recordPath(at.home, key);
    const bak = backupPath(file);
    const kept = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    let rec: EnvRecord | undefined;
    try {
      rec = parseRecord(readFileSync(bak, "utf8"), bak, key, doc.home_id, doc.hosts);
    } catch {
      rec = undefined;
    }
    if (existsSync(file)) renameSync(file, kept);
    if (rec) {
      writeFileAtomic(file, encodeRecord(rec), 0o600, at.env);
      knownRecords.delete(file);
      doc.index[key] = indexEntryOf(rec);
      return `restored ${file} from ${bak}; the corrupt file is kept as ${kept}`;
    }
    delete doc.index[key];
    knownRecords.delete(file);
    return `moved ${file} aside as ${kept} (no valid backup) and dropped the env from the index`;
  });
}

/**
 * Makes the index agree with the record files: an entry whose record is missing is dropped, an
 * entry that differs from its record is rewritten from it, and a record the index does not list
 * (a create or destroy cut short) is removed. Says what it did.
 */
export async function reconcileIndex(at: StateHome, fix: { drop?: string[]; refresh?: string[]; orphans?: string[] }): Promise<string> {
  return withIndexOnly(at, (doc) => {
    const done: string[] = [];
    for (const key of fix.drop ?? []) {
      if (Object.hasOwn(doc.index, key) && readRecordText(recordPath(at.home, key)) === undefined) {
        delete doc.index[key];
        done.push(`dropped ${key} from the index`);
      }
    }
    for (const key of fix.refresh ?? []) {
      const file = recordPath(at.home, key);
      const text = readRecordText(file);
      if (text === undefined || !Object.hasOwn(doc.index, key)) continue;
      doc.index[key] = indexEntryOf(parseRecord(text, file, key, doc.home_id, doc.hosts));
      done.push(`rewrote the index entry of ${key} from its record`);
    }
    for (const key of fix.orphans ?? []) {
      if (Object.hasOwn(doc.index, key)) continue;
      const file = recordPath(at.home, key);
      for (const f of [file, backupPath(file)]) {
        try {
          unlinkSync(f);
        } catch {
          // gone
        }
      }
      knownRecords.delete(file);
      done.push(`removed ${file}, which no env of the index owns`);
    }
    return done.join("; ") || "nothing to do";
  });
}

/** Changes the index document itself under the lock (repairs), validated, `state.json.bak` kept. */
async function withIndexOnly(at: StateHome, fn: (doc: IndexDoc) => string): Promise<string> {
  const file = statePath(at.home);
  return withFileLock(file, lockTimeoutMs(at.env), async () => {
    const text = readFileSync(file, "utf8");
    const parsed = parseStateText(text, file);
    if (parsed.kind !== "index") throw new CiloError("E_STATE_INVALID", `${file} is of an older schema; run cilo doctor --fix to migrate it first`);
    const doc = JSON.parse(text) as IndexDoc & { index_sha1?: unknown };
    delete doc.index_sha1;
    const said = fn(doc);
    const problems = indexProblems(doc);
    if (problems.length > 0) throw new CiloError("E_STATE_INVALID", `Refusing to write an invalid state: ${problems[0]}`);
    const out = renderIndexText(doc);
    if (out !== text) {
      keepBackup(file);
      writeFileAtomic(file, out, 0o600, at.env);
      known.set(file, { text: out });
    }
    return said;
  });
}

/** Creates `$CILO_HOME` and its state file if missing; otherwise applies the given config changes. */
export async function initState(at: StateHome, changes: Partial<StateConfig>): Promise<{ created: boolean; state: State }> {
  const file = statePath(at.home);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  return withFileLock(file, lockTimeoutMs(at.env), async () => {
    if (!existsSync(file)) {
      const state = emptyState(newHomeId());
      Object.assign(state.config, changes);
      const problems = validateState(state);
      if (problems.length > 0) throw new CiloError("E_USAGE", `Invalid configuration: ${problems[0]}`, { exitCode: ExitCode.usage });
      const { envs: _envs, ...rest } = state;
      const text = renderIndexText({ ...rest, index: {} });
      writeFileAtomic(file, text, 0o600, at.env);
      known.set(file, { text });
      return { created: true, state };
    }
    const { state, oldText } = stateForChange(readIndexText(file), file, at.home);
    Object.assign(state.config, changes);
    const plan = planWrite(at.home, state, oldText, "E_USAGE");
    const dirs = applyWrite(at.home, plan, at.env);
    for (const dir of dirs) fsyncDir(dir);
    return { created: false, state };
  });
}

/** What `cilo doctor` finds in the layout: records that are corrupt, missing, out of step with the index, or owned by no env. */
export interface LayoutReport {
  /** The state with every env whose record is valid (the others are left out). */
  state: State;
  badRecords: { key: string; file: string; message: string }[];
  /** Index entries without a record file. */
  missing: string[];
  /** Index entries that differ from what their record makes (a write cut short between the two). */
  stale: string[];
  /** Record files the index does not list (a create or destroy cut short), by key. */
  orphans: { key: string; file: string }[];
}

/**
 * Reads every record of a (valid) index without stopping at the first problem: for doctor, which
 * reports each. `text` is state.json's text; an older single file has no layout to inspect.
 */
export function inspectLayout(home: string, text: string): LayoutReport {
  const file = statePath(home);
  const parsed = parseStateText(text, file);
  if (parsed.kind === "full") return { state: parsed.state, badRecords: [], missing: [], stale: [], orphans: [] };
  const { index: read, ...rest } = parsed.doc;
  const index = viewOf(read)?.all() ?? read; // doctor checks every entry together
  const report: LayoutReport = { state: { ...rest, envs: {} } as State, badRecords: [], missing: [], stale: [], orphans: [] };
  for (const key of Object.keys(index)) {
    const rf = recordPath(home, key);
    const t = readRecordText(rf);
    if (t === undefined) {
      report.missing.push(key);
      continue;
    }
    try {
      const rec = parseRecord(t, rf, key, rest.home_id, rest.hosts);
      report.state.envs[key] = rec;
      if (JSON.stringify(indexEntryOf(rec)) !== JSON.stringify(index[key])) report.stale.push(key);
    } catch (e) {
      report.badRecords.push({ key, file: rf, message: messageOf(e) });
    }
  }
  const dir = recordsDir(home);
  for (const project of safeReaddir(dir)) {
    if (!isHostLabel(project)) continue;
    for (const name of safeReaddir(join(dir, project))) {
      const env = name.endsWith(".json") ? name.slice(0, -".json".length) : "";
      if (!isHostLabel(env)) continue;
      const key = `${project}/${env}`;
      if (!Object.hasOwn(index, key)) report.orphans.push({ key, file: join(dir, project, name) });
    }
  }
  return report;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
