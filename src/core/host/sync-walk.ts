import { lstatSync, type Stats, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { padding, TAR_END, tarHeaders } from "../fs/tar.ts";
import { cloneFilter } from "../workspace/clone-filter.ts";
import { safeRelPath } from "./tar-sync-plan.ts";

// The local side of an incremental push over ssh (docs/remote.md "Remote workspace"): one walk of
// the workspace that compares each entry with the manifest of the last push as it goes, and that
// manifest, kept in the local workspace's `.cilo/` (never pushed). Made for `cilo sync` of a large
// workspace after a small change: the walk is one readdir per folder and one lstat per entry; an
// entry is a string compared with a string (no object per entry), and the manifest is stored as
// NUL-separated text that one split reads back (JSON of 10,000 objects cost 20 ms to parse and check).

/**
 * An entry as the manifest keeps it: `f<size>:<mtime ms>:<mode>`, `l<link target>` or `d`; a file
 * whose mtime was within `RACY_MS` of the walk (or after it: the file may change again unseen) has `:racy` appended: it never matches.
 */
export type Signature = string;

/**
 * How close to the walk an mtime makes a file "racy" (git's word): written again within the same
 * tick of its mtime with the same size after the push read it, it would look unchanged (Linux
 * stamps files from a clock that moves by 1–10 ms). Its entry is kept so that it never matches,
 * and the next push sends it again; an mtime older than this before the walk began means that
 * any later write shows as a newer mtime. An mtime of whole seconds may come from a file system
 * that keeps only seconds (or 2 s: FAT): `RACY_COARSE_MS` for it.
 */
export const RACY_MS = 100;
export const RACY_COARSE_MS = 3000;
const RACY = ":racy";

/** A file or symlink to send: its path, and what it was when listed. */
export type SendEntry = { path: string; t: "f"; size: number; mtimeMs: number; mode: number } | { path: string; t: "l"; target: string };

export interface WalkResult {
  /** The manifest of what the workspace holds now (path → signature), to record once the push succeeded. */
  now: Map<string, Signature>;
  /** New and changed files and symlinks (everything when there was no last push), in walk order. */
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
  listedBy: "find" | "walk";
}

/** Whether `.ciloignore` holds a rule (not only blank lines and comments). */
function hasRules(ciloignore: string): boolean {
  return !ciloignore.split(/\r?\n/).every((l) => l.trim() === "" || l.startsWith("#"));
}

/** What `.ciloignore` says, for the walk: nothing to ask when it has no rule. */
function filterOf(ciloignore: string): { copies(rel: string, isDir: boolean): boolean; descends(rel: string): boolean } {
  return !hasRules(ciloignore) ? { copies: () => true, descends: () => false } : cloneFilter({ ignoreFile: ciloignore });
}

/** The comparison of a listing with the last push's manifest, fed one entry at a time by either listing. */
interface Comparer {
  dir(r: string): void;
  file(r: string, size: number, mtimeMs: number, mode: number): void;
  link(r: string, target: string): void;
  finish(workspace: string, listedBy: WalkResult["listedBy"]): WalkResult;
}

function comparer(last: Map<string, Signature> | undefined, walkedAt: number): Comparer {
  const now = new Map<string, Signature>();
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
      now.set(r, "d");
      const was = last?.get(r);
      if (was === "d") matched++;
      else {
        if (was !== undefined) remove.push(r); // a file or symlink there before: removed, then the folder made
        mkdirs.push(r);
      }
    },
    file(r, size, m, p) {
      const sig = `f${size}:${m}:${p}`;
      // A file written this close to the walk may change again within its mtime's tick, size
      // unchanged: recorded so that it never matches, the next push sends it again.
      const kept = m >= walkedAt - (m % 1000 === 0 ? RACY_COARSE_MS : RACY_MS) ? `${sig}${RACY}` : sig;
      now.set(r, kept);
      if (last?.get(r) === sig) {
        matched++;
        return;
      }
      bytes += size;
      changed(r, { path: r, t: "f", size, mtimeMs: m, mode: p });
    },
    link(r, target) {
      const sig = `l${target}`;
      now.set(r, sig);
      if (last?.get(r) === sig) {
        matched++;
        return;
      }
      changed(r, { path: r, t: "l", target });
    },
    finish(workspace, listedBy) {
      // Paths of the last push not seen now: only then is the last manifest read through (10,000 Map
      // lookups when nothing was deleted would be wasted). Its paths decide what is removed there:
      // each is checked, and a path that exists here (ignored now) is left on the host.
      if (last && matched + remove.length < last.size) {
        for (const p of last.keys()) {
          if (now.has(p)) continue;
          // A path no walk makes (absolute, `..`, under .cilo/ or .git): the file was edited; never acted on.
          if (safeRelPath(p) && lstatOf(join(workspace, p)) === undefined) remove.push(p);
        }
      }
      const same = last !== undefined && send.length === 0 && mkdirs.length === 0 && remove.length === 0 && now.size === last.size;
      return { now, send, bytes, mkdirs, remove, same, listedBy };
    },
  };
}

/**
 * Walks `workspace` (`.ciloignore` honoured as gitignore rules, `.cilo/` and `.git` at the top left
 * out, sockets, fifos and devices skipped) and compares it with `last`, the manifest of the last
 * push (undefined: everything is sent, nothing removed), by size, mtime (ms) and mode; `walkedAt`
 * (when the walk began, before any file is read) decides which mtimes are racy (`RACY_MS`).
 * Synchronous on purpose: 10,000 lstats in a row cost less than as many promises.
 */
export function walkChanges(workspace: string, ciloignore: string, last: Map<string, Signature> | undefined, walkedAt = Date.now()): WalkResult {
  const filter = filterOf(ciloignore);
  const cmp = comparer(last, walkedAt);
  const walk = (rel: string, abs: string): void => {
    // Names only, one lstat each (folders too): 10,000 Dirent objects cost more than the 100 lstats of folders they save.
    for (const name of readdirSync(abs)) {
      if (rel === "" && (name === ".cilo" || name === ".git")) continue;
      const r = rel === "" ? name : `${rel}/${name}`;
      const a = `${abs}/${name}`;
      const st = lstatOf(a);
      if (st === undefined) continue; // gone since the readdir: the next push sees it
      if (st.isDirectory()) {
        if (filter.copies(r, true)) {
          cmp.dir(r);
          walk(r, a);
        } else if (filter.descends(r)) walk(r, a);
        continue;
      }
      if (!filter.copies(r, false)) continue;
      if (st.isFile()) cmp.file(r, st.size, Math.floor(st.mtimeMs), st.mode & 0o7777);
      else if (st.isSymbolicLink()) {
        let target: string;
        try {
          target = readlinkSync(a);
        } catch {
          continue;
        }
        cmp.link(r, target);
      } // else a socket, fifo or device
    }
  };
  walk("", workspace);
  return cmp.finish(workspace, "walk");
}

/**
 * Runs `find` (argv) in a folder, handing each chunk of its standard output (UTF-8 text) to
 * `onOutput` as it comes: `proc/run.ts`'s `run` bound to the caller's environment.
 */
export type FindRunner = (args: string[], cwd: string, onOutput: (chunk: string) => void) => Promise<{ code: number }>;

/**
 * GNU find's listing of a workspace: per entry its type, path, size, mtime (seconds with the
 * fraction), permission bits (octal) and link target, each ended by a NUL (no name holds one).
 * Top-level `.cilo` and `.git` are pruned, as the walk leaves them out.
 */
export const FIND_ARGS = [...". -mindepth 1 ( -path ./.cilo -o -path ./.git ) -prune -o -printf".split(" "), "%y\\0%P\\0%s\\0%T@\\0%m\\0%l\\0"];
const FIELDS = 6;

const OCTAL = /^[0-7]{1,6}$/;

/**
 * find's output (`FIND_ARGS`) fed to a comparer chunk by chunk, each whole entry as it arrives
 * (the comparison runs while find still lists). `end` says whether everything was in that form:
 * a find without `-printf` (BusyBox's, BSD's) prints something else, and the caller walks instead.
 * An mtime before 1970 is not in the form either.
 */
class FindFeed {
  private rest = "";
  private bad = false;
  private readonly modes = new Map<string, number>(); // a workspace has a handful of modes: each parsed once
  constructor(private readonly cmp: Comparer) {}

  push(chunk: string): void {
    if (this.bad) return;
    const parts = (this.rest + chunk).split("\0");
    const whole = Math.floor((parts.length - 1) / FIELDS) * FIELDS;
    this.rest = parts.slice(whole).join("\0");
    for (let i = 0; i < whole; i += FIELDS) {
      if (!this.entry(parts, i)) {
        this.bad = true;
        return;
      }
    }
  }

  /** True when all of the output was whole entries in the form. */
  end(): boolean {
    return !this.bad && this.rest === "";
  }

  private entry(parts: string[], i: number): boolean {
    const type = parts[i]!;
    const r = parts[i + 1]!;
    if (r === "" || r.charCodeAt(0) === 47) return false; // "" or absolute: not find's %P
    if (type === "f") {
      const s = parts[i + 2]!;
      const t = parts[i + 3]!;
      const size = Number(s);
      // The floor of the mtime in ms, as Math.floor(stat.mtimeMs): whole seconds and the fraction's first three digits.
      const dot = t.indexOf(".");
      const ms = dot < 0 ? Number(t) * 1000 : Number(t.slice(0, dot)) * 1000 + Number(`${t.slice(dot + 1, dot + 4)}00`.slice(0, 3));
      if (s === "" || t === "" || t.charCodeAt(0) === 45 || !Number.isSafeInteger(size) || size < 0 || !Number.isSafeInteger(ms)) return false;
      const m = parts[i + 4]!;
      let mode = this.modes.get(m);
      if (mode === undefined) {
        if (!OCTAL.test(m)) return false;
        mode = Number.parseInt(m, 8) & 0o7777;
        this.modes.set(m, mode);
      }
      this.cmp.file(r, size, ms, mode);
    } else if (type === "d") this.cmp.dir(r);
    else if (type === "l") this.cmp.link(r, parts[i + 5]!);
    // else a socket, fifo or device (s, p, c, b, D), skipped as by the walk
    return true;
  }
}

/** The comparison `walkChanges` makes, from the whole of find's output (`FIND_ARGS`); undefined when it is not in that form. */
export function changesFromFind(workspace: string, out: string, last: Map<string, Signature> | undefined, walkedAt: number): WalkResult | undefined {
  const cmp = comparer(last, walkedAt);
  const feed = new FindFeed(cmp);
  feed.push(out);
  return feed.end() ? cmp.finish(workspace, "find") : undefined;
}

/** A listing begun: when (racy mtimes are judged from it), and GNU find's run when one was started. */
export interface Listing {
  walkedAt: number;
  find?: {
    /** find's exit code once it ended. */
    done: Promise<{ code: number }>;
    /** Where its output goes: kept until `listChanges` knows the last manifest, then compared as it comes. */
    sink: { kept: string[]; to?: (chunk: string) => void };
  };
}

/**
 * Begins listing `workspace` for `listChanges`: with GNU find when `find` is given (Linux) and
 * `.ciloignore` has no rules (find would descend into ignored folders the walk prunes). find stats
 * each entry in C, in a process of its own that runs while the caller goes on, and its output is
 * compared as it comes (10,000 files: the walk's lstats from Node, which also make a Stats object
 * and four Dates each, took about twice as long).
 */
export function startListing(workspace: string, ciloignore: string, find?: FindRunner): Listing {
  const walkedAt = Date.now();
  if (!find || hasRules(ciloignore)) return { walkedAt };
  const sink: { kept: string[]; to?: (chunk: string) => void } = { kept: [] };
  const done = find(FIND_ARGS, workspace, (chunk) => (sink.to ? sink.to(chunk) : sink.kept.push(chunk)));
  return { walkedAt, find: { done, sink } };
}

/**
 * The changes since `last` (`walkChanges`), from find's listing when it gave one in its form; any
 * failure (no find, a find without `-printf` such as BusyBox's, an unreadable folder, an
 * unexpected entry) falls back to the walk, which then says what is wrong.
 */
export async function listChanges(listing: Listing, workspace: string, ciloignore: string, last: Map<string, Signature> | undefined): Promise<WalkResult> {
  if (listing.find) {
    const cmp = comparer(last, listing.walkedAt);
    const feed = new FindFeed(cmp);
    const { sink, done } = listing.find;
    for (const chunk of sink.kept.splice(0)) feed.push(chunk);
    sink.to = (chunk) => feed.push(chunk);
    const r = await done;
    if (r.code === 0 && feed.end()) return cmp.finish(workspace, "find");
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

const MAGIC = "cilo-push-manifest 2";

/** Where the manifest of the last push over ssh is kept: the local workspace's `.cilo/`. */
export function pushManifestPath(workspace: string): string {
  return join(workspace, ".cilo", "push-manifest");
}

/**
 * The manifest of the last push to `target` (`<ssh address> <remote path>`), or undefined when
 * there is none, it was for another target, or it is malformed or torn (the push is then a full
 * one). Its paths are checked where they are used (`walkChanges`: only those it removes).
 * Format: `cilo-push-manifest 2\n<target>\n<count>\n` then `<path>\0<signature>\0` per entry.
 */
export function readPushManifest(workspace: string, target: string): Map<string, Signature> | undefined {
  let text: string;
  try {
    text = readFileSync(pushManifestPath(workspace), "utf8");
  } catch {
    return undefined;
  }
  const a = text.indexOf("\n");
  const b = text.indexOf("\n", a + 1);
  const c = text.indexOf("\n", b + 1);
  if (a < 0 || b < 0 || c < 0 || text.slice(0, a) !== MAGIC || text.slice(a + 1, b) !== target) return undefined;
  const count = Number(text.slice(b + 1, c));
  const parts = text.slice(c + 1).split("\0");
  // n entries: 2n parts and the empty string after the last NUL.
  if (!Number.isSafeInteger(count) || count <= 0 || parts.length !== 2 * count + 1 || parts[2 * count] !== "") return undefined;
  const m = new Map<string, Signature>();
  for (let i = 0; i < 2 * count; i += 2) m.set(parts[i]!, parts[i + 1]!);
  return m.size === count ? m : undefined;
}

/**
 * Writes `manifest` as what `target` will hold to a temporary file while the push runs; `commit`
 * renames it into place after the push succeeded, `drop` removes it. No fsync: a cache lost or
 * torn by a crash is malformed, and the next push is then a full one.
 */
export function stagePushManifest(workspace: string, target: string, manifest: Map<string, Signature>): { commit(): void; drop(): void } {
  const path = pushManifestPath(workspace);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const parts: string[] = [];
  for (const [p, s] of manifest) parts.push(p, s);
  parts.push("");
  writeFileSync(tmp, `${MAGIC}\n${target}\n${manifest.size}\n${parts.join("\0")}`, { mode: 0o644 });
  return { commit: () => renameSync(tmp, path), drop: () => rmSync(tmp, { force: true }) };
}

/** Forgets the last push (after a pull, the next push compares everything again). */
export function forgetPushManifest(workspace: string): void {
  rmSync(pushManifestPath(workspace), { force: true });
  rmSync(join(workspace, ".cilo", "push-manifest.json"), { force: true }); // the JSON form of earlier versions
}
