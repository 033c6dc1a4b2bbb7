import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { cloneFilter } from "../workspace/clone-filter.ts";
import { type Manifest, parseManifest, safeRelPath } from "./tar-sync-plan.ts";

// The local side of an incremental push (docs/remote.md "Remote workspace"): what the workspace
// holds now, as a manifest (path → size, mtime, mode / link target / folder), and the manifest of
// the last push to an ssh:// host, kept in the local workspace's `.cilo/` (never pushed).

/**
 * What the local workspace holds, as a manifest: files, symlinks and folders, `.ciloignore`
 * honoured as rsync honours it (gitignore rules), `.cilo/` and `.git` left out, other kinds of
 * entry (sockets, fifos) skipped. Synchronous: a walk of 10,000 files is a few tens of ms.
 */
export function localManifest(workspace: string, ciloignore: string): Manifest {
  // No rule (no .ciloignore, or only blank lines and comments): no matcher to ask 10,000 times.
  const none = ciloignore.split(/\r?\n/).every((l) => l.trim() === "" || l.startsWith("#"));
  const filter = none ? { copies: () => true, descends: () => false } : cloneFilter({ ignoreFile: ciloignore });
  const entries: Manifest["entries"] = {};
  const walk = (rel: string): void => {
    for (const d of readdirSync(rel === "" ? workspace : join(workspace, rel), { withFileTypes: true })) {
      const r = rel === "" ? d.name : `${rel}/${d.name}`;
      if (!safeRelPath(r)) continue; // .cilo/ and .git at the top
      if (d.isDirectory()) {
        if (filter.copies(r, true)) {
          entries[r] = { t: "d" };
          walk(r);
        } else if (filter.descends(r)) walk(r);
      } else if (filter.copies(r, false)) {
        if (d.isFile()) {
          const st = lstatSync(join(workspace, r));
          entries[r] = { t: "f", s: st.size, m: Math.floor(st.mtimeMs), p: st.mode & 0o7777 };
        } else if (d.isSymbolicLink()) entries[r] = { t: "l", l: readlinkSync(join(workspace, r)) };
      }
    }
  };
  walk("");
  return { v: 1, entries };
}

/** Where the manifest of the last push over ssh is kept: the local workspace's `.cilo/`. */
export function pushManifestPath(workspace: string): string {
  return join(workspace, ".cilo", "push-manifest.json");
}

/**
 * The manifest of the last push to `target` (`<ssh address> <remote path>`), or undefined when
 * there is none, it was for another target, or it is malformed (the push is then a full one).
 */
export function readPushManifest(workspace: string, target: string): Manifest | undefined {
  let text: string;
  try {
    text = readFileSync(pushManifestPath(workspace), "utf8");
  } catch {
    return undefined;
  }
  const nl = text.indexOf("\n");
  if (nl < 0 || text.slice(0, nl) !== target) return undefined;
  const m = parseManifest(text.slice(nl + 1));
  return Object.keys(m.entries).length > 0 ? m : undefined;
}

/**
 * Writes `manifest` as what `target` will hold (first line: the target; then the manifest's JSON)
 * to a temporary file while the push runs; `commit` renames it into place after the push
 * succeeded, `drop` removes it. No fsync: a cache lost or torn by a crash is malformed, and the
 * next push is then a full one.
 */
export function stagePushManifest(workspace: string, target: string, manifest: Manifest): { commit(): void; drop(): void } {
  const path = pushManifestPath(workspace);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${target}\n${JSON.stringify(manifest)}`, { mode: 0o644 });
  return { commit: () => renameSync(tmp, path), drop: () => rmSync(tmp, { force: true }) };
}

/** Forgets the last push (after a pull, the next push compares everything again). */
export function forgetPushManifest(workspace: string): void {
  rmSync(pushManifestPath(workspace), { force: true });
}
