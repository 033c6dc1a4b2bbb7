import { createHash, randomBytes } from "node:crypto";
import { accessSync, constants, createReadStream, createWriteStream } from "node:fs";
import { lstat, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { DockerEndpoint } from "../docker-endpoint.ts";
import type { RuntimeProvider } from "../runtime/provider.ts";
import { copyTree } from "../workspace/copy-tree.ts";
import type { CopyPath, CopyReport } from "./snapshot-store.ts";

/** How to copy: `auto` takes the fastest path that works (reflink, else copy on a local engine; tar otherwise). */
export type CopyMethod = "auto" | CopyPath;
export const COPY_METHODS: readonly CopyMethod[] = ["auto", "reflink", "copy", "tar"];

/** The image helper containers are made from when `CILO_HELPER_IMAGE` does not name one (never run: only created). */
export const DEFAULT_HELPER_IMAGE = "busybox:1.36";

const ALL = { copies: () => true, descends: () => true };
/** Where a helper container mounts the volume; the tar's entries start with its name. */
const MOUNT = "/cilo-volume";

export interface DirCopy {
  path: "reflink" | "copy";
  bytes: number;
  files: number;
}

/**
 * Copies a volume's data folder with owners, modes and times into the existing folder `dest`:
 * copy-on-write clones per file where the file system allows (`reflink` demands them, `copy`
 * never tries), else a copy (`copyTree`: small files read and written whole, large ones by `fs.copyFile`).
 */
export async function copyDir(source: string, dest: string, method: "auto" | "reflink" | "copy", signal?: AbortSignal): Promise<DirCopy> {
  await mkdir(dest, { recursive: true });
  const res = await copyTree(source, dest, {
    filter: ALL,
    preserve: true,
    reflink: method !== "copy",
    reflinkOnly: method === "reflink",
    ...(signal ? { signal } : {}),
  });
  return { path: res.reflinked ? "reflink" : "copy", bytes: res.bytes, files: res.files };
}

/**
 * Whether this process can read and write a volume's folder directly: a local engine (unix
 * socket) whose volume folder exists here. Docker Desktop's and remote engines' folders do not.
 */
export function reachableHere(endpoint: DockerEndpoint, mountpoint: string | undefined): mountpoint is string {
  if (!mountpoint || !endpoint.host.startsWith("unix://")) return false;
  try {
    accessSync(mountpoint, constants.R_OK | constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** sha256 over a folder's listing: path, type, size, mode, owner and mtime of each entry, sorted. */
export async function treeChecksum(dir: string): Promise<string> {
  const lines: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = (await readdir(join(dir, rel), { withFileTypes: true })).map((e) => e.name).sort();
    for (const name of entries) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const st = await lstat(join(dir, r));
      const type = st.isDirectory() ? "d" : st.isSymbolicLink() ? "l" : st.isFile() ? "f" : "o";
      lines.push(`${r}\0${type}\0${type === "f" ? st.size : 0}\0${st.mode}\0${st.uid}:${st.gid}\0${Math.round(st.mtimeMs)}`);
      if (type === "d") await walk(r);
    }
  };
  await walk("");
  return createHash("sha256").update(lines.join("\n")).digest("hex");
}

export interface Helper {
  provider: RuntimeProvider;
  image: string;
  labels: Record<string, string>;
}

/** Runs `fn` with a created (never started) container that mounts `volume`; removes it after. */
async function withHelper<T>(helper: Helper, volume: string, fn: (id: string) => Promise<T>): Promise<T> {
  const { provider, image } = helper;
  if (!(await provider.hasImage(image))) await provider.pullImage(image);
  const id = await provider.createContainer({
    name: `cilo_helper_${randomBytes(6).toString("hex")}`,
    image,
    cmd: ["true"],
    labels: helper.labels,
    volumes: [{ volume, target: MOUNT }],
  });
  try {
    return await fn(id);
  } finally {
    await provider.removeContainer(id).catch(() => {});
  }
}

/** Streams a volume's data out through a helper container into a tar file; returns its size and sha256. */
export async function volumeToTar(helper: Helper, volume: string, file: string): Promise<{ bytes: number; checksum: string }> {
  return withHelper(helper, volume, async (id) => {
    const hash = createHash("sha256");
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(await helper.provider.archiveOut(id, MOUNT), tap, createWriteStream(file, { mode: 0o600 }));
    return { bytes, checksum: hash.digest("hex") };
  });
}

/** Extracts a tar file made by `volumeToTar` into a volume through a helper container. */
export async function tarToVolume(helper: Helper, file: string, volume: string): Promise<void> {
  await withHelper(helper, volume, (id) => helper.provider.archiveIn(id, "/", createReadStream(file)));
}

/** A copy's report from its start time (ms), with bytes per second. */
export function reportOf(volume: string, path: CopyPath, bytes: number, files: number, startMs: number, nowMs: number): CopyReport {
  const seconds = Math.max(0.001, (nowMs - startMs) / 1000);
  return { volume, path, bytes, files, seconds: Number(seconds.toFixed(3)), bytes_per_s: Math.round(bytes / seconds) };
}
