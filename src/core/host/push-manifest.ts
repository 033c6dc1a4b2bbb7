import { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Listed } from "./sync-walk.ts";

// The manifest of the last push over ssh (sync-walk.ts compares with it), kept in the local
// workspace's `.cilo/` (never pushed). Light: the CLI asks whether there is one before the rest of
// `cilo sync` loads (env/sync-early.ts).

const MAGIC = "cilo-push-manifest 3";

/** What a manifest is for: the host's ssh address and the remote workspace (`<address> <remote path>`). */
export function pushTarget(address: string, remote: string): string {
  return `${address} ${remote}`;
}

/** Where the manifest of the last push over ssh is kept: the local workspace's `.cilo/`. */
export function pushManifestPath(workspace: string): string {
  return join(workspace, ".cilo", "push-manifest");
}

/**
 * The manifest of the last push to `target` (`<ssh address> <remote path>`), or undefined when
 * there is none, it was for another target, or it is torn (the push is then a full one). Its
 * entries are parsed and checked where they are compared, its paths where they are used (only
 * those it removes). Format: `cilo-push-manifest 3\n<target>\n<find|walk>\n<length>\n` then the
 * listing (`Listed`) of that many characters.
 */
export function readPushManifest(workspace: string, target: string): Listed | undefined {
  let text: string;
  try {
    text = readFileSync(pushManifestPath(workspace), "utf8");
  } catch {
    return undefined;
  }
  const a = text.indexOf("\n");
  const b = text.indexOf("\n", a + 1);
  const c = text.indexOf("\n", b + 1);
  const d = text.indexOf("\n", c + 1);
  if (a < 0 || b < 0 || c < 0 || d < 0 || text.slice(0, a) !== MAGIC || text.slice(a + 1, b) !== target) return undefined;
  const by = text.slice(b + 1, c);
  const length = Number(text.slice(c + 1, d));
  const body = text.slice(d + 1);
  if ((by !== "find" && by !== "walk") || !Number.isSafeInteger(length) || body.length !== length || (body !== "" && !body.endsWith("\0\0"))) return undefined;
  return { by, text: body };
}

/**
 * Writes `manifest` as what `target` will hold to a temporary file while the push runs; `commit`
 * renames it into place after the push succeeded, `drop` removes it. No fsync: a cache lost or
 * torn by a crash is malformed, and the next push is then a full one.
 */
export function stagePushManifest(workspace: string, target: string, manifest: Listed): { commit(): void; drop(): void } {
  const path = pushManifestPath(workspace);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${MAGIC}\n${target}\n${manifest.by}\n${manifest.text.length}\n${manifest.text}`, { mode: 0o644 });
  return { commit: () => renameSync(tmp, path), drop: () => rmSync(tmp, { force: true }) };
}

/** Forgets the last push (after a pull, the next push compares everything again). */
export function forgetPushManifest(workspace: string): void {
  rmSync(pushManifestPath(workspace), { force: true });
  rmSync(join(workspace, ".cilo", "push-manifest.json"), { force: true }); // the JSON form of earlier versions
}

/** Whether the manifest of the last push is one for `target` (its head only is read): the next push is then an incremental one. */
export function hasPushManifestFor(workspace: string, target: string): boolean {
  const head = `${MAGIC}\n${target}\n`;
  let fd: number | undefined;
  try {
    fd = openSync(pushManifestPath(workspace), "r");
    const buf = Buffer.alloc(Buffer.byteLength(head));
    return readSync(fd, buf, 0, buf.length, 0) === buf.length && buf.toString("utf8") === head;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
