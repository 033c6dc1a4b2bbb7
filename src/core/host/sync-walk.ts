import { lstatSync, type Stats, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { padding, TAR_END, tarHeaders } from "../fs/tar.ts";
import { cloneFilter } from "../workspace/clone-filter.ts";
import { hasRules, type Listing } from "./find-listing.ts";
import { safeRelPath } from "./tar-sync-plan.ts";

// The local side of an incremental push over ssh (docs/remote.md "Remote workspace"): one listing
// of the workspace compared with the listing the last push recorded (its manifest, kept in the
// local workspace's `.cilo/`, never pushed). Made for `cilo sync` of a large workspace after a
// small change: both listings are text in one form (below), written in the same order when
// nothing changed (GNU find's, or the walk's readdir order), so the comparison runs over the text:
// the stretches both hold alike are skipped whole (string comparisons of up to 32 KiB), and only
// the entries around a difference are parsed and compared path by path. Parsing every entry
// (the first push, or listings of different origins) is the slow path; it answers the same.

/**
 * What an entry was listed as, compared by value: `f<size>:<mtime ms>:<mode>`, `l<link target>`
 * or `d`; a file recorded as racy (below) has `:racy` after it and never matches.
 */
export type Signature = string;

/**
 * How close to the walk an mtime makes a file "racy" (git's word): written again within the same
 * tick of its mtime with the same size after the push read it, it would look unchanged (Linux
 * stamps files from a clock that moves by 1–10 ms). Its entry is recorded with an `r` before the
 * mtime so that it never matches, and the next push sends it again; an mtime older than this before
 * the walk began means that any later write shows as a newer mtime. An mtime of whole seconds
 * may come from a file system that keeps only seconds (or 2 s: FAT): `RACY_COARSE_MS` for it.
 */
export const RACY_MS = 100;
export const RACY_COARSE_MS = 3000;

/**
 * A listing of a workspace, or the manifest of a push (the listing with racy mtimes marked), as
 * text of entries, each ended by two NULs (no field is empty, so a double NUL ends an entry and
 * nothing else):
 * - a folder: `d NUL <path> NUL NUL`
 * - a symlink: `l NUL <path> NUL <target> NUL NUL`
 * - a file: `f NUL <path> NUL <size> NUL <mtime> NUL <mode, octal> NUL NUL`, the mtime as GNU
 *   find's `%T@` (seconds and a fraction) or as the walk's `m<ms>`, after an `r` when a manifest
 *   records it as racy.
 * `by` says what made it: two listings by the same lister of an unchanged tree are the same text.
 */
export interface Listed {
  by: "find" | "walk";
  text: string;
}

/** A file or symlink to send: its path, and what it was when listed. */
export type SendEntry = { path: string; t: "f"; size: number; mtimeMs: number; mode: number } | { path: string; t: "l"; target: string };

export interface WalkResult {
  /** The manifest of what the workspace holds now, to record once the push succeeded. */
  now: Listed;
  /** New and changed files and symlinks (everything when there was no last push), in listing order. */
  send: SendEntry[];
  /** Bytes of the files in `send`. */
  bytes: number;
  /** Folders that are new since the last push (or were something else then). */
  mkdirs: string[];
  /**
   * Paths of the last push to remove there: gone here (not merely ignored now: the host keeps
   * those, as rsync keeps excluded files), or a folder that is now a file or symlink. Each passed
   * `safeRelPath`.
   */
  remove: string[];
  /** True when nothing changed: no send, no mkdir, no remove, and the manifest is the last one. */
  same: boolean;
  /** What listed the workspace: GNU find (`startListing`) or the walk from Node. */
  listedBy: Listed["by"];
}

/** What `.ciloignore` says, for the walk: nothing to ask when it has no rule. */
function filterOf(ciloignore: string): { copies(rel: string, isDir: boolean): boolean; descends(rel: string): boolean } {
  return !hasRules(ciloignore) ? { copies: () => true, descends: () => false } : cloneFilter({ ignoreFile: ciloignore });
}

/** The comparison with the last push's entries (those not matched by text), fed one listed entry at a time. */
interface Comparer {
  dir(r: string): void;
  file(r: string, size: number, mtimeMs: number, mode: number): void;
  link(r: string, target: string): void;
  finish(workspace: string): Pick<WalkResult, "send" | "bytes" | "mkdirs" | "remove">;
}

function comparer(last: Map<string, Signature> | undefined): Comparer {
  const seen = new Set<string>();
  const send: SendEntry[] = [];
  const mkdirs: string[] = [];
  const remove: string[] = [];
  let bytes = 0;
  let matched = 0;
  /** A file or symlink not matched: sent, and what was there before (a folder) removed first. */
  const changed = (r: string, entry: SendEntry): void => {
    const was = last?.get(r);
    if (was === "d")
      remove.push(r); // a folder there before: removed (with what it holds), then the file put
    else if (was !== undefined) matched++;
    send.push(entry);
  };
  return {
    dir(r) {
      seen.add(r);
      const was = last?.get(r);
      if (was === "d") matched++;
      else {
        if (was !== undefined) remove.push(r); // a file or symlink there before: removed, then the folder made
        mkdirs.push(r);
      }
    },
    file(r, size, m, p) {
      seen.add(r);
      if (last?.get(r) === `f${size}:${m}:${p}`) {
        matched++;
        return;
      }
      bytes += size;
      changed(r, { path: r, t: "f", size, mtimeMs: m, mode: p });
    },
    link(r, target) {
      seen.add(r);
      if (last?.get(r) === `l${target}`) {
        matched++;
        return;
      }
      changed(r, { path: r, t: "l", target });
    },
    finish(workspace) {
      // Paths of the last push not seen now: only then is the last manifest read through. Its paths
      // decide what is removed there: each is checked, and a path that exists here (ignored now)
      // is left on the host.
      if (last && matched + remove.length < last.size) {
        for (const p of last.keys()) {
          if (seen.has(p)) continue;
          // A path no listing makes (absolute, `..`, under .cilo/ or .git): the file was edited; never acted on.
          if (safeRelPath(p) && lstatOf(join(workspace, p)) === undefined) remove.push(p);
        }
      }
      return { send, bytes, mkdirs, remove };
    },
  };
}

/**
 * Walks `workspace` (`.ciloignore` honoured as gitignore rules, `.cilo/` and `.git` at the top left
 * out, sockets, fifos and devices skipped) and compares it with `last`, the manifest of the last
 * push (undefined: everything is sent, nothing removed), by size, mtime (ms) and mode; `walkedAt`
 * (when the walk began, before any file is read) decides which mtimes are racy (`RACY_MS`).
 */
export function walkChanges(workspace: string, ciloignore: string, last: Listed | undefined, walkedAt = Date.now()): WalkResult {
  const listed: Listed = { by: "walk", text: walkListing(workspace, ciloignore) };
  const w = compareListing(workspace, listed, last, walkedAt);
  if (!w) throw new Error(`the walk of ${workspace} made a listing not in its own form`);
  return w;
}

/**
 * The walk's listing (`Listed`): one readdir per folder, of names only, one lstat per entry (folders
 * too: 10,000 Dirent objects cost more than the 100 lstats of folders they save). Synchronous on
 * purpose: 10,000 lstats in a row cost less than as many promises.
 */
function walkListing(workspace: string, ciloignore: string): string {
  const filter = filterOf(ciloignore);
  const out: string[] = [];
  const walk = (rel: string, abs: string): void => {
    for (const name of readdirSync(abs)) {
      if (rel === "" && (name === ".cilo" || name === ".git")) continue;
      const r = rel === "" ? name : `${rel}/${name}`;
      const a = `${abs}/${name}`;
      const st = lstatOf(a);
      if (st === undefined) continue; // gone since the readdir: the next push sees it
      if (st.isDirectory()) {
        if (filter.copies(r, true)) {
          out.push(`d\0${r}\0\0`);
          walk(r, a);
        } else if (filter.descends(r)) walk(r, a);
        continue;
      }
      if (!filter.copies(r, false)) continue;
      if (st.isFile()) out.push(`f\0${r}\0${st.size}\0m${Math.floor(st.mtimeMs)}\0${(st.mode & 0o7777).toString(8)}\0\0`);
      else if (st.isSymbolicLink()) {
        let target: string;
        try {
          target = readlinkSync(a);
        } catch {
          continue;
        }
        if (target !== "") out.push(`l\0${r}\0${target}\0\0`);
      } // else a socket, fifo or device
    }
  };
  walk("", workspace);
  return out.join("");
}

const OCTAL = /^[0-7]{1,6}$/;

/** An entry's fields, parsed (`parseEntry`). */
interface Entry {
  t: "d" | "l" | "f";
  path: string;
  target: string;
  size: number;
  mtimeMs: number;
  /** Recorded as racy (a manifest's `r` before the mtime): never matches. */
  racy: boolean;
  mode: number;
  /** Where the mtime field begins in the text (a racy one is marked there). */
  mtimeAt: number;
}

/** Parsed modes: a workspace has a handful, each parsed once. */
const modes = new Map<string, number>();

/**
 * The entry of `text` at `[s, e)` (`e`: where its double NUL begins), or undefined when it is not in
 * the form: a path empty or absolute, a field missing or extra, a size, mtime or mode that is not
 * one (find without `-printf`, BusyBox's or BSD's, prints something else). `racyOk`: a manifest's.
 */
function parseEntry(text: string, s: number, e: number, racyOk: boolean): Entry | undefined {
  if (e - s < 3 || text.charCodeAt(s + 1) !== 0) return undefined;
  const type = text[s];
  const p1 = text.indexOf("\0", s + 2);
  if (p1 <= s + 2 || p1 > e || text.charCodeAt(s + 2) === 47) return undefined; // empty, absolute
  const path = text.slice(s + 2, p1);
  const entry: Entry = { t: "d", path, target: "", size: 0, mtimeMs: 0, racy: false, mode: 0, mtimeAt: 0 };
  if (type === "d") return p1 === e ? entry : undefined;
  if (type === "l") {
    if (p1 === e || text.indexOf("\0", p1 + 1) < e) return undefined;
    entry.t = "l";
    entry.target = text.slice(p1 + 1, e);
    return entry;
  }
  if (type !== "f" || p1 === e) return undefined;
  const p2 = text.indexOf("\0", p1 + 1);
  const p3 = p2 < 0 || p2 >= e ? -1 : text.indexOf("\0", p2 + 1);
  if (p3 < 0 || p3 >= e || text.indexOf("\0", p3 + 1) < e) return undefined;
  const s1 = text.slice(p1 + 1, p2);
  const size = Number(s1);
  if (!Number.isSafeInteger(size) || size < 0 || s1.charCodeAt(0) > 57 || s1.charCodeAt(0) < 48) return undefined;
  const m = text.slice(p3 + 1, e);
  let mode = modes.get(m);
  if (mode === undefined) {
    if (!OCTAL.test(m)) return undefined;
    mode = Number.parseInt(m, 8) & 0o7777;
    modes.set(m, mode);
  }
  let t = text.slice(p2 + 1, p3);
  const racy = t.charCodeAt(0) === 114; // a manifest's `r`
  if (racy) {
    if (!racyOk) return undefined;
    t = t.slice(1);
  }
  let ms: number;
  if (t.charCodeAt(0) === 109) {
    // the walk's `m<ms>` (before 1970 too)
    ms = Number(t.slice(1));
    if (t.length < 2 || !Number.isSafeInteger(ms)) return undefined;
  } else {
    // find's seconds and fraction: the floor of the ms, as Math.floor(stat.mtimeMs). Not before 1970.
    const dot = t.indexOf(".");
    const c = t.charCodeAt(0);
    if (c < 48 || c > 57 || dot === 0) return undefined;
    ms = dot < 0 ? Number(t) * 1000 : Number(t.slice(0, dot)) * 1000 + Number(`${t.slice(dot + 1, dot + 4)}00`.slice(0, 3));
    if (!Number.isSafeInteger(ms)) return undefined;
  }
  entry.t = "f";
  entry.size = size;
  entry.mtimeMs = ms;
  entry.racy = racy;
  entry.mode = mode;
  entry.mtimeAt = p2 + 1;
  return entry;
}

function signatureOf(e: Entry): Signature {
  return e.t === "d" ? "d" : e.t === "l" ? `l${e.target}` : `f${e.size}:${e.mtimeMs}:${e.mode}${e.racy ? ":racy" : ""}`;
}

/** The entries of `text` in the ranges `at` (`[start, end)` pairs on entry bounds) by path, or undefined when one is not in the form. */
function signaturesIn(text: string, at: readonly number[]): Map<string, Signature> | undefined {
  const out = new Map<string, Signature>();
  for (let k = 0; k < at.length; k += 2) {
    for (let pos = at[k]!; pos < at[k + 1]!; ) {
      const e = text.indexOf("\0\0", pos);
      const entry = e < 0 || e + 2 > at[k + 1]! ? undefined : parseEntry(text, pos, e, true);
      if (!entry) return undefined;
      out.set(entry.path, signatureOf(entry));
      pos = e + 2;
    }
  }
  return out;
}

/** The entries of a listing (a manifest's too) by path: what `compareListing` compares, for a reader or a test. */
export function entriesOf(listed: Listed): Map<string, Signature> | undefined {
  return signaturesIn(listed.text, [0, listed.text.length]);
}

/**
 * Compares `listed` with `last` (the last push's manifest) for `walkedAt` (racy mtimes); undefined
 * when `listed` is not in the form. The same lister on both sides: the text is compared
 * (`diffRanges`) and only the entries around each difference are parsed; else every entry. An
 * entry alike in both is not judged racy again: it was not when recorded (else it would carry the
 * mark), so its mtime was older than the window then and is now. A manifest not in the form counts
 * as none (everything is sent, nothing removed).
 */
function compareListing(workspace: string, listed: Listed, last: Listed | undefined, walkedAt: number): WalkResult | undefined {
  const n = listed.text;
  if (n !== "" && !n.endsWith("\0\0")) return undefined;
  let ranges = last && last.by === listed.by ? diffRanges(last.text, n) : undefined;
  let before = last && ranges ? signaturesIn(last.text, ranges.o) : undefined;
  if (!before) {
    ranges = undefined;
    before = last ? signaturesIn(last.text, [0, last.text.length]) : undefined;
  }
  const cmp = comparer(before);
  const racy: number[] = []; // where each racy mtime field begins in `n`
  const at = ranges ? ranges.n : [0, n.length];
  for (let k = 0; k < at.length; k += 2) {
    for (let pos = at[k]!; pos < at[k + 1]!; ) {
      const e = n.indexOf("\0\0", pos);
      const entry = e < 0 || e + 2 > at[k + 1]! ? undefined : parseEntry(n, pos, e, false);
      if (!entry) return undefined;
      if (entry.t === "d") cmp.dir(entry.path);
      else if (entry.t === "l") cmp.link(entry.path, entry.target);
      else {
        const m = entry.mtimeMs;
        cmp.file(entry.path, entry.size, m, entry.mode);
        // A file written this close to the walk may change again within its mtime's tick, size
        // unchanged: recorded so that it never matches, the next push sends it again.
        if (m >= walkedAt - (m % 1000 === 0 ? RACY_COARSE_MS : RACY_MS)) racy.push(entry.mtimeAt);
      }
      pos = e + 2;
    }
  }
  let text = n;
  if (racy.length > 0) {
    const parts: string[] = [];
    let from = 0;
    for (const at of racy) {
      parts.push(n.slice(from, at), "r");
      from = at;
    }
    parts.push(n.slice(from));
    text = parts.join("");
  }
  const r = cmp.finish(workspace);
  const same = last !== undefined && r.send.length === 0 && r.mkdirs.length === 0 && r.remove.length === 0 && text === last.text;
  return { now: { by: listed.by, text }, ...r, same, listedBy: listed.by };
}

/** At most this many searches for where two listings meet again (a reordered listing): then every entry is parsed. */
const MAX_SEARCHES = 32;

/**
 * Where two listings in the form differ, as ranges on entry bounds of each (`[start, end)` pairs):
 * what is outside them is the same text in both, in the same order. A difference in one entry (the
 * same path, changed) is that entry on both sides; entries only one side has (new, gone) are found
 * by looking for the other side's next entry further on. Undefined when the listings are not in
 * the form or meet again only after `MAX_SEARCHES` searches (the caller then parses every entry).
 */
function diffRanges(o: string, n: string): { o: number[]; n: number[] } | undefined {
  const ro: number[] = [];
  const rn: number[] = [];
  let i = 0;
  let j = 0;
  let searches = 0;
  for (;;) {
    const k = commonLength(o, i, n, j);
    if (i + k === o.length && j + k === n.length) return { o: ro, n: rn };
    // The entry holding the first difference begins after the last entry end before it (the text before is alike).
    const q = i + k >= 2 ? o.lastIndexOf("\0\0", i + k - 2) : -1;
    const s = q >= 0 && q + 2 > i ? q + 2 : i;
    const sn = j + (s - i);
    if (s >= o.length) {
      rn.push(sn, n.length); // the rest of n is new
      return { o: ro, n: rn };
    }
    if (sn >= n.length) {
      ro.push(s, o.length); // the rest of o is gone
      return { o: ro, n: rn };
    }
    const eo = o.indexOf("\0\0", s);
    const en = n.indexOf("\0\0", sn);
    if (eo < 0 || en < 0) return undefined;
    if (pathAt(o, s) !== pathAt(n, sn)) {
      if (++searches > MAX_SEARCHES) return undefined;
      const inO = entryAt(o, n.slice(sn, en + 2), s);
      if (inO >= 0) {
        ro.push(s, inO); // o's entries up to n's one: gone (or elsewhere in n)
        i = inO;
        j = sn;
        continue;
      }
      const inN = entryAt(n, o.slice(s, eo + 2), sn);
      if (inN >= 0) {
        rn.push(sn, inN); // n's entries up to o's one: new (or elsewhere in o)
        i = s;
        j = inN;
        continue;
      }
    }
    // The same path changed, or neither entry is further on in the other (a rename, say): both differ.
    ro.push(s, eo + 2);
    rn.push(sn, en + 2);
    i = eo + 2;
    j = en + 2;
  }
}

/** How many characters `a` from `i` and `b` from `j` have alike: slices compared whole, halved around a difference. */
function commonLength(a: string, i: number, b: string, j: number): number {
  const max = Math.min(a.length - i, b.length - j);
  let k = 0;
  let step = 1 << 15;
  while (k < max) {
    const len = Math.min(step, max - k);
    if (a.slice(i + k, i + k + len) === b.slice(j + k, j + k + len)) k += len;
    else if (len === 1) break;
    else step = len >> 1;
  }
  return k;
}

/** The path of the entry at `s` (an entry start), for comparison. */
function pathAt(text: string, s: number): string {
  return text.slice(s + 2, text.indexOf("\0", s + 2));
}

/** Where `entry` (whole, double NUL included) begins in `text` at an entry start from `from` (one), or -1. */
function entryAt(text: string, entry: string, from: number): number {
  if (text.startsWith(entry, from)) return from;
  const q = text.indexOf(`\0\0${entry}`, from);
  return q < 0 ? -1 : q + 2;
}

/** The changes `walkChanges` finds, from GNU find's output (`FIND_ARGS`); undefined when it is not in that form. */
export function changesFromFind(workspace: string, out: string, last: Listed | undefined, walkedAt: number): WalkResult | undefined {
  return compareListing(workspace, { by: "find", text: out }, last, walkedAt);
}

/**
 * The changes since `last` (`walkChanges`), from find's listing when it gave one in its form; any
 * failure (no find, a find without `-printf` such as BusyBox's, an unreadable folder, an
 * unexpected entry) falls back to the walk, which then says what is wrong.
 */
export async function listChanges(listing: Listing, workspace: string, ciloignore: string, last: Listed | undefined): Promise<WalkResult> {
  if (listing.find) {
    const r = await listing.find;
    const w = r.code === 0 ? changesFromFind(workspace, r.stdout, last, listing.walkedAt) : undefined;
    if (w) return w;
  }
  return walkChanges(workspace, ciloignore, last, listing.walkedAt);
}

/**
 * One tar of what a push sends, its entries under `.cilo/<stage>/`: each file and symlink of `send` under `f/<path>` (mode and mtime as
 * listed, content as read now: a file that changed since has a newer mtime and is sent again next
 * time; one gone since is left out, and the next push removes it there), then `apply.sh`.
 */
export function pushTar(workspace: string, stage: string, send: SendEntry[], script: string): Buffer {
  const at = `.cilo/${stage}`;
  const out: Buffer[] = [];
  for (const e of send) {
    if (e.t === "l") {
      out.push(tarHeaders({ path: `${at}/f/${e.path}`, type: "symlink", mode: 0o777, mtimeMs: Date.now(), linkname: e.target }));
      continue;
    }
    let data: Buffer;
    try {
      data = readFileSync(join(workspace, e.path));
    } catch {
      continue;
    }
    out.push(tarHeaders({ path: `${at}/f/${e.path}`, type: "file", mode: e.mode, mtimeMs: e.mtimeMs, size: data.length }), data, padding(data.length));
  }
  const body = Buffer.from(script, "utf8");
  out.push(tarHeaders({ path: `${at}/apply.sh`, type: "file", mode: 0o644, mtimeMs: Date.now(), size: body.length }), body, padding(body.length), TAR_END);
  return Buffer.concat(out);
}

const NO_THROW = { throwIfNoEntry: false } as const;

/** lstat, or undefined when nothing is there (ENOENT, or ENOTDIR: a folder on the way became a file). */
function lstatOf(path: string): Stats | undefined {
  try {
    return lstatSync(path, NO_THROW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw e;
  }
}
