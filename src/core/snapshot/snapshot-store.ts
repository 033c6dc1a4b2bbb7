import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CiloError, usageError } from "../errors.ts";
import { isRecord } from "../is-record.ts";
import { snapshotsDir } from "../paths.ts";
import { didYouMean } from "../suggest.ts";

/** How one volume's data was copied: a copy-on-write clone, a plain copy, or a tar stream through a helper container. */
export type CopyPath = "reflink" | "copy" | "tar";

/** What one copy of a volume did, as `--json` and workflow events report it. */
export interface CopyReport {
  volume: string;
  path: CopyPath;
  bytes: number;
  files: number;
  seconds: number;
  bytes_per_s: number;
}

export interface SnapshotVolume extends CopyReport {
  /** The volume's key in the compose file (`volumes:`), which names it in every env. */
  key: string;
  /** `dir`: a folder `data/<key>`; `tar`: a tar file `data/<key>.tar`. */
  format: "dir" | "tar";
  /** sha256 of the tar file, or of the folder's listing (path, type, size, mode, owner, mtime of each entry). */
  checksum: string;
}

export interface SnapshotManifest {
  version: 1;
  name: string;
  source: { project: string; env: string; compose_project: string };
  created_at: string;
  /** How the source's services were held during the copy. */
  consistency: "paused" | "stopped" | "live";
  volumes: SnapshotVolume[];
  /** sha256 over the volumes' checksums. */
  checksum: string;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** A compose volume key as compose accepts it. */
const VOLUME_KEY = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/;

/** A snapshot name: lower-case letters, digits, `.`, `_`, `-`; starts with a letter or digit. */
export function checkSnapshotName(name: string): string {
  if (!NAME.test(name)) {
    throw usageError(
      `The snapshot name "${name}" is not valid`,
      "Use lower-case letters, digits, '.', '_' and '-' (up to 63), starting with a letter or digit",
    );
  }
  return name;
}

export function snapshotDir(home: string, name: string): string {
  return join(snapshotsDir(home), checkSnapshotName(name));
}

/** The snapshots of a home, oldest first; folders still being made (`.tmp-*`) are not listed. */
export function listSnapshots(home: string): SnapshotManifest[] {
  const dir = snapshotsDir(home);
  if (!existsSync(dir)) return [];
  const out: SnapshotManifest[] = [];
  for (const name of readdirSync(dir)) {
    if (name.startsWith(".")) continue;
    const manifest = tryReadManifest(join(dir, name));
    if (manifest) out.push(manifest);
  }
  return out.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.name.localeCompare(b.name));
}

/** A snapshot folder being made or removed: `.tmp-[rm-]<name>-<pid>-<8 hex>`; the pid is its maker's. */
export const SNAPSHOT_TMP_NAME = /^\.tmp-.+-(\d+)-[0-9a-f]{8}$/;

/** A snapshot's manifest; an unknown name is a usage error naming the closest one. */
export function readSnapshot(home: string, name: string): SnapshotManifest {
  const manifest = tryReadManifest(snapshotDir(home, name));
  if (!manifest) {
    const names = listSnapshots(home).map((s) => s.name);
    throw new CiloError("E_SNAPSHOT_NOT_FOUND", `There is no snapshot "${name}"${didYouMean(name, names)}`, {
      hint: "cilo snapshot list shows the snapshots",
    });
  }
  return manifest;
}

function tryReadManifest(dir: string): SnapshotManifest | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  } catch {
    return undefined;
  }
  if (!isRecord(doc) || doc["version"] !== 1 || typeof doc["name"] !== "string" || !Array.isArray(doc["volumes"])) return undefined;
  // A volume's key names its data under the snapshot (`data/<key>`): a compose volume key, never a path.
  if (!doc["volumes"].every((v) => isRecord(v) && typeof v["key"] === "string" && VOLUME_KEY.test(v["key"]))) return undefined;
  return doc as unknown as SnapshotManifest;
}

/** Removes a snapshot: renamed out of the list first, so a kill half-way leaves only a `.tmp-` leftover. */
export function removeSnapshot(home: string, name: string): void {
  readSnapshot(home, name);
  const dir = snapshotDir(home, name);
  const doomed = join(snapshotsDir(home), `.tmp-rm-${name}-${process.pid}-${randomBytes(4).toString("hex")}`);
  renameSync(dir, doomed);
  rmSync(doomed, { recursive: true, force: true });
}
