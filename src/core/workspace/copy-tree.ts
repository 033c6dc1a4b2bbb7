import { constants } from "node:fs";
import { chmod, copyFile, lchown, lstat, lutimes, mkdir, readdir, readlink, stat, symlink } from "node:fs/promises";
import { join } from "node:path";
import type { CloneFilter } from "./clone-filter.ts";
import { TaskPool } from "./task-pool.ts";

export interface CopyTreeOptions {
  filter: CloneFilter;
  /** Clone files copy-on-write; falls back to plain copies where the file system cannot. */
  reflink?: boolean;
  /** Paths (relative to the source) never entered, such as the destination when it lies inside. */
  skip?: string[];
  signal?: AbortSignal;
  /** File operations in flight at once (default 32). */
  concurrency?: number;
  /** Keep owners and times too (volume data, copied as root); with it `.git` entries are copied like any other. */
  preserve?: boolean;
  /** With `reflink`: fail with the file system's error rather than fall back to plain copies. */
  reflinkOnly?: boolean;
  /** Called after each file or symlink is copied with the totals so far (the caller throttles any display). */
  onProgress?: (progress: CopyProgress) => void;
}

/** How far a copy has got: files and symlinks copied, and their bytes. */
export interface CopyProgress {
  files: number;
  bytes: number;
}

export interface CopyTreeResult {
  /** Files and symlinks copied. */
  files: number;
  /** Bytes of the regular files copied. */
  bytes: number;
  /** Whether the copy-on-write clones worked (false when `reflink` was asked for and fell back). */
  reflinked: boolean;
}

const DEFAULT_CONCURRENCY = 32;

/** Errors of FICLONE meaning "this file system (pair) cannot clone", not "this file is bad". */
const NO_REFLINK = new Set(["ENOTSUP", "EOPNOTSUPP", "EXDEV", "EINVAL", "ENOSYS", "ENOTTY"]);

/**
 * Copies the entries of `source` that the filter takes into the existing folder `dest`: regular
 * files with their mode bits, symlinks as symlinks (never followed), folders with their modes.
 * `.git` entries are never copied. Sockets, FIFOs and devices are skipped.
 */
export async function copyTree(source: string, dest: string, opts: CopyTreeOptions): Promise<CopyTreeResult> {
  const { filter } = opts;
  const skip = new Set(opts.skip ?? []);
  const pool = new TaskPool(opts.concurrency ?? DEFAULT_CONCURRENCY, opts.signal);
  const dirModes: { path: string; mode: number; src: string }[] = [];
  let reflink = opts.reflink === true;
  let files = 0;
  let bytes = 0;
  const preserve = opts.preserve === true;
  /** Owner and times of what was made, applied after its content (a folder's times change while it fills). */
  const keep = async (src: string, dst: string): Promise<void> => {
    const st = await lstat(src);
    await lchown(dst, st.uid, st.gid);
    await lutimes(dst, st.atimeMs / 1000, st.mtimeMs / 1000); // numbers: a Date would cut to milliseconds
  };

  const cloneOrCopy = async (from: string, to: string): Promise<void> => {
    try {
      await copyFile(from, to, constants.COPYFILE_FICLONE_FORCE);
    } catch (e) {
      if (opts.reflinkOnly || !NO_REFLINK.has((e as NodeJS.ErrnoException).code ?? "")) throw e;
      reflink = false;
      await copyFile(from, to);
    }
  };
  const copyFileOnly = (from: string, to: string): Promise<void> => (reflink ? cloneOrCopy(from, to) : copyFile(from, to));
  // Progress costs one lstat per file, so it is counted only when someone listens.
  const onProgress = opts.onProgress;
  const done: CopyProgress = { files: 0, bytes: 0 };
  const counted = (from: string, copy: () => Promise<void>) => async (): Promise<void> => {
    await copy();
    if (!onProgress) return;
    const { size } = await lstat(from); // before touching the totals: `+= await` would lose updates
    done.files++;
    done.bytes += size;
    onProgress({ ...done });
  };

  /** Walks one source folder; `made` says whether its destination folder exists yet. */
  const walk = async (rel: string, made: boolean): Promise<void> => {
    const from = join(source, rel);
    const to = join(dest, rel);
    const ensureDir = made ? undefined : () => mkdir(to, { recursive: true, mode: 0o700 });
    for (const entry of await readdir(from, { withFileTypes: true })) {
      if (entry.name === ".git" && !preserve) continue;
      const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (skip.has(childRel)) continue;
      const src = join(from, entry.name);
      const dst = join(to, entry.name);
      if (entry.isDirectory()) {
        const take = filter.copies(childRel, true);
        if (!take && !filter.descends(childRel)) continue;
        pool.add(async () => {
          const { mode } = await stat(src);
          dirModes.push({ path: dst, mode: mode & 0o7777, src });
          if (take) {
            if (ensureDir) await ensureDir();
            await mkdir(dst, { mode: 0o700 });
          }
          await walk(childRel, take);
        }, true);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && filter.copies(childRel, false)) {
        const plain = entry.isFile()
          ? async () => {
              await copyFileOnly(src, dst);
              const { size } = await stat(dst); // before touching the total: `+= await` would lose updates
              bytes += size;
            }
          : async () => symlink(await readlink(src), dst);
        const copy = counted(src, preserve ? () => plain().then(() => keep(src, dst)) : plain);
        pool.add(ensureDir ? () => ensureDir().then(copy) : copy);
        files++;
      }
    }
  };

  pool.add(() => walk("", true), true);
  await pool.drained();
  // Folders were made owner-writable so that they could be filled; now they get their own modes.
  const modes = new TaskPool(opts.concurrency ?? DEFAULT_CONCURRENCY, opts.signal);
  for (const { path, mode, src } of dirModes) {
    modes.add(() =>
      chmod(path, mode)
        .then(() => (preserve ? keep(src, path) : undefined))
        .catch((e: NodeJS.ErrnoException) => {
          if (e.code !== "ENOENT") throw e; // an excluded folder none of whose entries was included
        }),
    );
  }
  await modes.drained();
  if (preserve) {
    const { mode } = await stat(source);
    await chmod(dest, mode & 0o7777);
    await keep(source, dest);
  }
  return { files, bytes, reflinked: opts.reflink === true && reflink };
}
