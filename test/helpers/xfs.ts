// An XFS file system with reflinks on a loop device, for the copy-on-write paths (TESTING.md
// "Filesystems with reflinks"). Needs root and mkfs.xfs (xfsprogs); `mountXfs` returns undefined
// when either is missing, so that a test can skip outside CI and fail in it.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./cli.ts";

export interface XfsMount {
  dir: string;
  unmount(): void;
}

function has(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A fresh XFS (`-m reflink=1`) of `sizeGiB` on a loop device, mounted at a temp folder. */
export function mountXfs(sizeGiB: number): XfsMount | undefined {
  if (process.getuid?.() !== 0 || !has("mkfs.xfs") || !has("losetup")) return undefined;
  const base = tempDir("cilo-xfs-");
  const image = join(base, "fs.img");
  const dir = join(base, "mnt");
  mkdirSync(dir);
  execFileSync("truncate", ["-s", `${sizeGiB}G`, image]);
  const loop = execFileSync("losetup", ["-f", "--show", image], { encoding: "utf8" }).trim();
  try {
    execFileSync("mkfs.xfs", ["-q", "-m", "reflink=1", loop]);
    execFileSync("mount", [loop, dir]);
  } catch (e) {
    execFileSync("losetup", ["-d", loop]);
    rmSync(base, { recursive: true, force: true });
    throw e;
  }
  return {
    dir,
    unmount() {
      execFileSync("umount", [dir]);
      execFileSync("losetup", ["-d", loop]);
      rmSync(base, { recursive: true, force: true });
    },
  };
}
