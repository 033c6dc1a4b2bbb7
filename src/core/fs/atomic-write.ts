import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { failpoint } from "../failpoint.ts";
import { fsFault } from "./fs-fault.ts";

let counter = 0;

/**
 * Writes a file so that a crash at any moment leaves either the old or the new content:
 * temp file in the same folder, fsync, rename over the target, fsync of the folder.
 * A full disk, used-up quota, read-only mount or missing permission is thrown as a CiloError
 * naming `path` (see fs-fault.ts); the old content is then untouched. `env` (a context's) turns on
 * crash injection: `CILO_FAILPOINT=atomic-write:before-rename`. `syncDir: false` leaves the folder
 * sync to the caller (the state store does it once its lock is released).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, env: NodeJS.ProcessEnv = {}, opts: { syncDir?: boolean } = {}): void {
  try {
    writeAtomically(path, data, mode, env, opts.syncDir ?? true);
  } catch (e) {
    throw fsFault(e, path) ?? e;
  }
}

function writeAtomically(path: string, data: string | Uint8Array, mode: number, env: NodeJS.ProcessEnv, syncDir: boolean): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.${counter++}.tmp`);
  const fd = openSync(tmp, "w", mode);
  try {
    const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    safeUnlink(tmp);
    throw e;
  }
  closeSync(fd);
  failpoint(env, "atomic-write:before-rename");
  try {
    renameSync(tmp, path);
  } catch (e) {
    safeUnlink(tmp);
    throw e;
  }
  if (syncDir) fsyncDir(dir); // else the caller syncs the folder before it relies on the rename
}

/**
 * `writeFileAtomic` for many files of one folder at once, with the syncs batched: every temp file
 * is written first, then each is synced (after the first, the journal holds the others' data
 * already, so the rest are cheap), then all are renamed over their targets and the folder is
 * synced once. A crash leaves each file either old or new (never partly written), though not
 * necessarily all of them new: callers whose files must change together record that elsewhere.
 * Faults are thrown as by `writeFileAtomic`, naming the file; no temp file is left behind.
 */
export function writeFilesAtomic(dir: string, files: [name: string, data: string][], mode = 0o644, env: NodeJS.ProcessEnv = {}): void {
  if (files.length === 0) return;
  const temps: { tmp: string; path: string; fd: number | undefined }[] = [];
  let current = dir;
  try {
    for (const [name, data] of files) {
      const path = join(dir, name);
      current = path;
      const t = { tmp: join(dir, `.${name}.${process.pid}.${Date.now()}.${counter++}.tmp`), path, fd: undefined as number | undefined };
      temps.push(t);
      t.fd = openSync(t.tmp, "w", mode);
      const buf = Buffer.from(data, "utf8");
      let off = 0;
      while (off < buf.length) off += writeSync(t.fd, buf, off, buf.length - off);
    }
    for (const t of temps) {
      current = t.path;
      fsyncSync(t.fd!);
      closeSync(t.fd!);
      t.fd = undefined;
    }
    failpoint(env, "atomic-write:before-rename");
    for (const t of temps) {
      current = t.path;
      renameSync(t.tmp, t.path);
      t.tmp = "";
    }
  } catch (e) {
    for (const t of temps) {
      if (t.fd !== undefined) closeSync(t.fd);
      if (t.tmp) safeUnlink(t.tmp);
    }
    throw fsFault(e, current) ?? e;
  }
  fsyncDir(dir);
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) and file systems cannot fsync a folder; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function safeUnlink(p: string): void {
  try {
    unlinkSync(p);
  } catch {
    // already gone
  }
}
