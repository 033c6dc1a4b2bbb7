// Pure parts of the workspace sync of a host without SSH (a tcp:// engine; docs/remote.md "Remote
// workspace"): the manifest of what was pushed, what a push must send and remove, the shell script a
// helper container runs to put staged files in place (one rename each), and tar headers. No I/O.

/** One entry of a manifest: a file (size, mtime ms, mode), a symlink (its target) or a folder. */
export type ManifestEntry = { t: "f"; s: number; m: number; p: number } | { t: "l"; l: string } | { t: "d" };

/** What the remote workspace holds from the last push: workspace-relative `/`-separated path → entry. */
export interface Manifest {
  v: 1;
  entries: Record<string, ManifestEntry>;
}

export const EMPTY_MANIFEST: Manifest = { v: 1, entries: {} };

/** Where the manifest lives in the remote workspace (under `.cilo/`, which pushes never touch otherwise). */
export const MANIFEST_PATH = ".cilo/sync-manifest.json";

/** A workspace-relative path a push may write or remove: no `.`/`..`/empty segment, not absolute, not under `.cilo/`, no NUL. */
export function safeRelPath(p: unknown): p is string {
  if (typeof p !== "string" || p === "" || p.length > 4096 || p.includes("\0") || p.startsWith("/")) return false;
  const segs = p.split("/");
  if (segs.some((s) => s === "" || s === "." || s === "..")) return false;
  return segs[0] !== ".cilo" && segs[0] !== ".git";
}

/**
 * A manifest read from the host, checked: it is untrusted (anyone with the engine may write it),
 * and its paths decide what a push removes. Anything malformed is the empty manifest (the push
 * then sends everything and removes nothing), never an error.
 */
export function parseManifest(text: string | undefined): Manifest {
  if (text === undefined) return EMPTY_MANIFEST;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return EMPTY_MANIFEST;
  }
  if (typeof raw !== "object" || raw === null || (raw as { v?: unknown }).v !== 1) return EMPTY_MANIFEST;
  const entries = (raw as { entries?: unknown }).entries;
  if (typeof entries !== "object" || entries === null || Array.isArray(entries)) return EMPTY_MANIFEST;
  const out: Record<string, ManifestEntry> = {};
  for (const [path, e] of Object.entries(entries as Record<string, unknown>)) {
    if (!safeRelPath(path) || typeof e !== "object" || e === null) return EMPTY_MANIFEST;
    const x = e as Record<string, unknown>;
    if (x["t"] === "d") out[path] = { t: "d" };
    else if (x["t"] === "l" && typeof x["l"] === "string") out[path] = { t: "l", l: x["l"] };
    else if (x["t"] === "f" && Number.isFinite(x["s"]) && Number.isFinite(x["m"]) && Number.isInteger(x["p"]))
      out[path] = { t: "f", s: x["s"] as number, m: x["m"] as number, p: x["p"] as number };
    else return EMPTY_MANIFEST;
  }
  return { v: 1, entries: out };
}

export interface SyncPlan {
  /** Files and symlinks to send (new, or changed in size, mtime, mode, type or target), sorted. */
  send: string[];
  /** Files and symlinks of the last push that are gone (or changed type) here, sorted. */
  remove: string[];
  /** Folders to make (every folder of the workspace: `mkdir -p` is cheap and repairs a deleted one). */
  mkdirs: string[];
  /** Folders of the last push that are gone here, deepest first (removed only when empty). */
  rmdirs: string[];
}

function same(a: ManifestEntry, b: ManifestEntry): boolean {
  if (a.t !== b.t) return false;
  if (a.t === "f" && b.t === "f") return a.s === b.s && a.m === b.m && a.p === b.p;
  if (a.t === "l" && b.t === "l") return a.l === b.l;
  return true;
}

/** What a push of `local` onto a remote workspace whose last push was `remote` does. */
export function syncPlan(local: Manifest, remote: Manifest): SyncPlan {
  const send: string[] = [];
  const remove: string[] = [];
  const mkdirs: string[] = [];
  const rmdirs: string[] = [];
  for (const [path, e] of Object.entries(local.entries)) {
    if (e.t === "d") mkdirs.push(path);
    else {
      const was = remote.entries[path];
      if (!was || !same(was, e)) send.push(path);
    }
  }
  for (const [path, was] of Object.entries(remote.entries)) {
    const now = local.entries[path];
    if (was.t === "d") {
      if (now?.t !== "d") rmdirs.push(path);
    } else if (!now || now.t === "d" || now.t !== was.t) remove.push(path);
  }
  const byDepth = (a: string, b: string) => b.split("/").length - a.split("/").length || (a < b ? -1 : a > b ? 1 : 0);
  return { send: send.sort(), remove: remove.sort(), mkdirs: mkdirs.sort(), rmdirs: rmdirs.sort(byDepth) };
}

/** `'…'` for sh, with `'` as `'\''`. */
export function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Shell lines of at most ~64 KiB each: `prefix word word …suffix`, the words already quoted. */
export function batched(prefix: string, words: string[], suffix = ""): string[] {
  const out: string[] = [];
  let cur: string[] = [];
  let len = 0;
  for (const w of words) {
    if (cur.length > 0 && len + w.length > 65_536) {
      out.push(`${prefix} ${cur.join(" ")}${suffix}`);
      cur = [];
      len = 0;
    }
    cur.push(w);
    len += w.length + 1;
  }
  if (cur.length > 0) out.push(`${prefix} ${cur.join(" ")}${suffix}`);
  return out;
}

/**
 * The script a helper container runs in the remote workspace (`workspace`, a path inside the
 * helper) after the tar with the staged files arrived under `.cilo/<stage>/f/`: removes what is
 * gone, makes folders, then renames each staged file into place (rename within one file system:
 * a reader sees the old file or the new one, never half of one), then the new manifest (last: an
 * interrupted apply leaves the old manifest, so the next push sends those files again), then drops
 * the stage and stages older than an hour that an interrupted push left.
 */
export function applyScript(workspace: string, stage: string, plan: SyncPlan): string {
  const lines = ["set -e", `cd ${shQuote(workspace)}`];
  lines.push(...batched("rm -f --", plan.remove.map(shQuote)));
  for (const d of plan.rmdirs) lines.push(`rmdir -- ${shQuote(d)} 2>/dev/null || true`);
  lines.push(...batched("mkdir -p --", plan.mkdirs.map(shQuote)));
  const byDir = new Map<string, string[]>();
  for (const f of plan.send) {
    const i = f.lastIndexOf("/");
    const dir = i < 0 ? "." : f.slice(0, i);
    byDir.set(dir, [...(byDir.get(dir) ?? []), f]);
  }
  for (const [dir, files] of byDir) {
    lines.push(
      ...batched(
        "mv -f --",
        files.map((f) => shQuote(`.cilo/${stage}/f/${f}`)),
        ` ${shQuote(`${dir}/`)}`,
      ),
    );
  }
  lines.push(`mv -f -- ${shQuote(`.cilo/${stage}/manifest.json`)} ${shQuote(MANIFEST_PATH)}`);
  lines.push(`rm -rf -- ${shQuote(`.cilo/${stage}`)}`);
  lines.push("find .cilo -maxdepth 1 -name 'stage-*' -mmin +60 -exec rm -rf -- {} + 2>/dev/null || true");
  return `${lines.join("\n")}\n`;
}
