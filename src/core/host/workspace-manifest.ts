import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { cloneFilter } from "../workspace/clone-filter.ts";
import { hasRules } from "./find-listing.ts";
import { type Manifest, safeRelPath } from "./tar-sync-plan.ts";

// The local side of a push to a host without SSH (tar-sync.ts, docs/remote.md "Remote workspace"):
// what the workspace holds now, as a manifest (path → size, mtime, mode / link target / folder).
// A push over ssh walks with sync-walk.ts instead (compares as it walks, keeps its manifest here).

/**
 * What the local workspace holds, as a manifest: files, symlinks and folders, `.ciloignore`
 * honoured as rsync honours it (gitignore rules), `.cilo/` and `.git` left out, other kinds of
 * entry (sockets, fifos) skipped. Synchronous: a walk of 10,000 files is a few tens of ms.
 */
export function localManifest(workspace: string, ciloignore: string): Manifest {
  // No rule (no .ciloignore, or only blank lines and comments): no matcher to ask 10,000 times.
  const filter = !hasRules(ciloignore) ? { copies: () => true, descends: () => false } : cloneFilter({ ignoreFile: ciloignore });
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
