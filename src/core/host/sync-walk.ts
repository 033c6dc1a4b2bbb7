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
}

/** What `.ciloignore` says, for the walk: nothing to ask when it has no rule. */
function filterOf(ciloignore: string): { copies(rel: string, isDir: boolean): boolean; descends(rel: string): boolean } {
  const none = ciloignore.split(/\r?\n/).every((l) => l.trim() === "" || l.startsWith("#"));
  return none ? { copies: () => true, descends: () => false } : cloneFilter({ ignoreFile: ciloignore });
}

/**
 * Walks `workspace` (`.ciloignore` honoured as gitignore rules, `.cilo/` and `.git` at the top left
 * out, sockets and fifos skipped) and compares it with `last`, the manifest of the last push
 * (undefined: everything is sent, nothing removed), by size, mtime (ms) and mode; `walkedAt` (when
 * the walk began, before any file is read) decides which mtimes are racy (`RACY_MS`). Synchronous
 * on purpose: 10,000 lstats in a row cost less than as many promises.
 */
export function walkChanges(workspace: string, ciloignore: string, last: Map<string, Signature> | undefined, walkedAt = Date.now()): WalkResult {
  const filter = filterOf(ciloignore);
  const now = new Map<string, Signature>();
  const send: SendEntry[] = [];
  const mkdirs: string[] = [];
  const remove: string[] = [];
  let bytes = 0;
  let matched = 0;
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
          now.set(r, "d");
          const was = last?.get(r);
          if (was === "d") matched++;
          else {
            if (was !== undefined) remove.push(r); // a file or symlink there before: removed, then the folder made
            mkdirs.push(r);
          }
          walk(r, a);
        } else if (filter.descends(r)) walk(r, a);
        continue;
      }
      if (!filter.copies(r, false)) continue;
      let sig: string;
      let entry: SendEntry;
      if (st.isFile()) {
        const m = Math.floor(st.mtimeMs);
        const p = st.mode & 0o7777;
        sig = `f${st.size}:${m}:${p}`;
        // A file written this close to the walk may change again within its mtime's tick, size
        // unchanged: recorded so that it never matches, the next push sends it again.
        const kept = m >= walkedAt - (m % 1000 === 0 ? RACY_COARSE_MS : RACY_MS) ? `${sig}${RACY}` : sig;
        if (last?.get(r) === sig) {
          now.set(r, kept);
          matched++;
          continue;
        }
        now.set(r, kept);
        entry = { path: r, t: "f", size: st.size, mtimeMs: m, mode: p };
        bytes += st.size;
      } else if (st.isSymbolicLink()) {
        let target: string;
        try {
          target = readlinkSync(a);
        } catch {
          continue;
        }
        sig = `l${target}`;
        now.set(r, sig);
        if (last?.get(r) === sig) {
          matched++;
          continue;
        }
        entry = { path: r, t: "l", target };
      } else continue; // a socket or fifo
      const was = last?.get(r);
      if (was === "d")
        remove.push(r); // a folder there before: removed (with what it holds), then the file put
      else if (was !== undefined) matched++;
      send.push(entry);
    }
  };
  walk("", workspace);
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
  return { now, send, bytes, mkdirs, remove, same };
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
