import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { CiloError, isCiloError } from "../errors.ts";
import { helperLabels, LABEL_HELPER, type HomeRef } from "../labels.ts";
import { pollUntil } from "../poll.ts";
import type { RuntimeProvider } from "../runtime/provider.ts";
import { DEFAULT_HELPER_IMAGE } from "../snapshot/volume-copy.ts";
import { localManifest } from "./workspace-manifest.ts";
import { applyScript, type Manifest, MANIFEST_PATH, parseManifest, shQuote, syncPlan } from "./tar-sync-plan.ts";
import { firstFileOfTar, padding, TAR_END, tarHeaders } from "../fs/tar.ts";

// The workspace sync of a host without SSH (a tcp:// engine, docs/remote.md "Remote workspace"):
// a short-lived helper container (CILO_HELPER_IMAGE, no network, labelled with the home id) that
// bind-mounts the remote root; the engine's archive API reads the manifest of the last push out of
// it and puts a tar of the changed files into a stage folder of the remote workspace; the helper
// then runs a script that renames each staged file into place, removes what is gone and writes the
// new manifest. The helper is removed after, whatever happened.

/** Where the helper mounts the host's remote root. */
const ROOT_MOUNT = "/cilo-root";

/** The image of workspace helpers: CILO_HELPER_IMAGE, else busybox (it needs sh, mv, rm, mkdir, find). */
export function helperImage(env: NodeJS.ProcessEnv): string {
  return env["CILO_HELPER_IMAGE"] || DEFAULT_HELPER_IMAGE;
}

/** A tar stream of the staged files (under `<stage>/f/`) and the new manifest, read from disk as it goes. */
function stageTar(workspace: string, stageDir: string, manifest: Manifest, send: string[], script: string): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    const now = Date.now();
    const dirs = new Set<string>();
    const dir = (path: string) => {
      const parts = path.split("/");
      const out: Buffer[] = [];
      for (let i = 1; i <= parts.length; i++) {
        const d = parts.slice(0, i).join("/");
        if (!dirs.has(d)) {
          dirs.add(d);
          out.push(tarHeaders({ path: d, type: "dir", mode: 0o755, mtimeMs: now }));
        }
      }
      return out;
    };
    yield* dir(`${stageDir}/f`);
    for (const path of send) {
      const e = manifest.entries[path]!;
      const at = `${stageDir}/f/${path}`;
      const i = at.lastIndexOf("/");
      yield* dir(at.slice(0, i));
      if (e.t === "l") {
        yield tarHeaders({ path: at, type: "symlink", mode: 0o777, mtimeMs: now, linkname: e.l });
      } else if (e.t === "f") {
        // The size read now: a file that changes while it is sent is sent as it was when listed, or
        // cut/padded to that size (the next push sees its new size and mtime and sends it again).
        const data = await readFile(join(workspace, path));
        const body = data.length === e.s ? data : Buffer.concat([data.subarray(0, e.s), Buffer.alloc(Math.max(0, e.s - data.length))]);
        yield tarHeaders({ path: at, type: "file", mode: e.p, mtimeMs: e.m, size: e.s });
        yield body;
        yield padding(e.s);
      }
    }
    for (const [name, text] of [
      ["manifest.json", JSON.stringify(manifest)],
      ["apply.sh", script],
    ] as const) {
      const body = Buffer.from(text, "utf8");
      yield tarHeaders({ path: `${stageDir}/${name}`, type: "file", mode: 0o644, mtimeMs: now, size: body.length });
      yield body;
      yield padding(body.length);
    }
    yield TAR_END;
  }
  return Readable.from(gen());
}

export interface HelperOptions {
  provider: RuntimeProvider;
  env: NodeJS.ProcessEnv;
  home: HomeRef;
  /** The host's remote root, mounted at /cilo-root. */
  root: string;
  signal?: AbortSignal;
}

/** A created helper container mounting the remote root with `cmd`; `fn` runs with it; it is removed after. */
async function withRootHelper<T>(h: HelperOptions, cmd: string[], fn: (id: string) => Promise<T>): Promise<T> {
  const image = helperImage(h.env);
  if (!(await h.provider.hasImage(image))) await h.provider.pullImage(image);
  const id = await h.provider.createContainer({
    name: `cilo_${h.home.id}_wsync_${randomBytes(5).toString("hex")}`,
    image,
    cmd,
    labels: { ...helperLabels(h.home), [LABEL_HELPER]: "workspace-sync" },
    network: "none",
    volumes: [{ volume: h.root, target: ROOT_MOUNT }],
  });
  try {
    return await fn(id);
  } finally {
    await h.provider.removeContainer(id).catch(() => {});
  }
}

/** Starts the helper and waits for it to end; E_SYNC_FAILED with its last output lines unless it exits 0. */
async function runHelper(h: HelperOptions, id: string, what: string): Promise<void> {
  await h.provider.startContainer(id);
  let code: number | undefined;
  await pollUntil(
    async () => {
      const c = await h.provider.inspectContainer(id);
      if (!c) return { ready: false, why: "the helper container is gone", fatal: true };
      if (c.state === "running" || c.state === "created" || c.state === "restarting") return { ready: false, why: c.state, fatal: false };
      code = c.exitCode;
      return { ready: true };
    },
    {
      deadline: Date.now() + 10 * 60_000,
      intervalMs: 20,
      backoff: 1.5,
      maxIntervalMs: 500,
      ...(h.signal ? { signal: h.signal } : {}),
      failed: (why) => new CiloError("E_SYNC_FAILED", `${what}: ${why}`, { hint: "Run cilo sync again: it resumes" }),
      timedOut: () => new CiloError("E_SYNC_FAILED", `${what}: the helper container did not end in 10 minutes`, { hint: "Run cilo sync again: it resumes" }),
    },
  );
  if (code !== 0) {
    const out = (await h.provider.logs(id, 5).catch(() => "")).trim().split("\n").filter(Boolean).pop() ?? `exit ${code}`;
    throw new CiloError("E_SYNC_FAILED", `${what}: ${out}`, { hint: "Run cilo sync again: it resumes" });
  }
}

/** The manifest of the last push in the remote workspace (`rel` under the root); empty when there is none or it is malformed. */
async function remoteManifest(h: HelperOptions, id: string, rel: string): Promise<Manifest> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = await h.provider.archiveOut(id, `${ROOT_MOUNT}/${rel}/${MANIFEST_PATH}`);
  } catch (e) {
    if (isCiloError(e) && (e.cause as { statusCode?: number } | undefined)?.statusCode === 404) return parseManifest(undefined);
    throw e;
  }
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return parseManifest(firstFileOfTar(Buffer.concat(chunks))?.toString("utf8"));
}

export interface TarPushResult {
  sent: number;
  removed: number;
}

/**
 * Pushes `local` (the env's local workspace) to `remote` (`<root>/<project>/<env>` on the host)
 * through the engine: only files whose size, mtime, mode or link target changed since the last
 * push (the manifest kept in the remote workspace), each renamed into place whole; files and empty
 * folders of the last push that are gone here are removed there. Files the host made itself are
 * left alone (unlike rsync --delete, the manifest only knows what cilo sent).
 */
export async function tarPush(h: HelperOptions, local: string, remote: string, ciloignore: string): Promise<TarPushResult> {
  if (!remote.startsWith(`${h.root}/`)) throw new CiloError("E_STATE_CORRUPT", `The remote workspace ${remote} is not under the host's root ${h.root}`);
  const rel = remote.slice(h.root.length + 1);
  const stage = `stage-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  const inHelper = `${ROOT_MOUNT}/${rel}`;
  const now = localManifest(local, ciloignore);
  return withRootHelper(h, ["sh", `${inHelper}/.cilo/${stage}/apply.sh`], async (id) => {
    const was = await remoteManifest(h, id, rel);
    const plan = syncPlan(now, was);
    const script = applyScript(inHelper, stage, plan);
    // Paths in the tar are relative to the root mount: the engine makes the folders on the way.
    await h.provider.archiveIn(id, ROOT_MOUNT, stageTar(local, `${rel}/.cilo/${stage}`, now, plan.send, script) as unknown as NodeJS.ReadableStream);
    await runHelper(h, id, `Pushing the workspace to ${remote}`);
    return { sent: plan.send.length, removed: plan.remove.length };
  });
}

/** Removes `remote` (`<root>/<project>/<env>`) and its project folder when that is left empty, in a helper. */
export async function tarRemove(h: HelperOptions, remote: string): Promise<void> {
  if (!remote.startsWith(`${h.root}/`)) throw new CiloError("E_STATE_CORRUPT", `The remote workspace ${remote} is not under the host's root ${h.root}`);
  const inHelper = `${ROOT_MOUNT}/${remote.slice(h.root.length + 1)}`;
  const parent = inHelper.slice(0, inHelper.lastIndexOf("/"));
  const script = `rm -rf -- ${shQuote(inHelper)} && { rmdir -- ${shQuote(parent)} 2>/dev/null || true; }`;
  await withRootHelper(h, ["sh", "-c", script], (id) => runHelper(h, id, `Removing ${remote}`));
}
