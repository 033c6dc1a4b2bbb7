import { existsSync, realpathSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { RenderEntry } from "../config/project-config.ts";
import { CiloError, ExitCode } from "../errors.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { isInside } from "./is-inside.ts";

/** The values of the `${CILO_*}` tokens that `env.render` files may hold. */
export interface RenderTokens {
  CILO_ENV: string;
  CILO_PROJECT: string;
  CILO_BASE_URL: string;
  CILO_DNS_SUFFIX: string;
  CILO_WORKSPACE: string;
}

const TOKEN = /\$\{(CILO_ENV|CILO_PROJECT|CILO_BASE_URL|CILO_DNS_SUFFIX|CILO_WORKSPACE)\}/g;

/**
 * Replaces the five `${CILO_*}` tokens in a file's bytes; any other `${...}` is left alone, and so
 * is every other byte (the file need not be UTF-8). Values are written as UTF-8.
 */
export function replaceTokens(content: Uint8Array, tokens: RenderTokens): Buffer {
  const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const text = bytes.toString("latin1"); // one char per byte, so match offsets are byte offsets
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    parts.push(bytes.subarray(last, m.index), Buffer.from(tokens[m[1] as keyof RenderTokens], "utf8"));
    last = m.index + m[0].length;
  }
  if (last === 0) return bytes;
  parts.push(bytes.subarray(last));
  return Buffer.concat(parts);
}

/**
 * Renders the `env.render` files of a workspace: in each listed file (relative to the workspace),
 * the `${CILO_*}` tokens are replaced and the file is rewritten atomically with its mode. Entries
 * `{file, tokens: false}` are left alone. Every entry is checked before any file is written: a
 * missing file, a folder, or a path leading out of the workspace (also through a symlinked folder)
 * is refused with exit 2. A symlinked file is replaced by a rendered copy, never written through.
 * Returns the entries whose content changed.
 */
export async function renderEnvFiles(workspace: string, entries: RenderEntry[], tokens: RenderTokens): Promise<string[]> {
  const files = entries.flatMap((e) => (typeof e === "string" ? [e] : e.tokens === false ? [] : [e.file]));
  const targets = files.map((file) => ({ file, path: checkedPath(workspace, file) }));
  const changed: string[] = [];
  for (const { file, path } of targets) {
    const before = await readFile(path);
    const after = replaceTokens(before, tokens);
    if (after.equals(before)) continue;
    writeFileAtomic(path, after, statSync(path).mode & 0o7777);
    changed.push(file);
  }
  return changed;
}

function checkedPath(workspace: string, file: string): string {
  const root = realpathSync(workspace);
  const path = resolve(workspace, file);
  const refuse = (why: string, hint: string) => new CiloError("E_RENDER_FILE", `The env.render file "${file}" ${why}`, { exitCode: ExitCode.usage, hint });
  if (!isInside(resolve(workspace), path)) throw refuse("is outside the workspace", "List paths relative to the project folder");
  if (!existsSync(path))
    throw refuse(`does not exist in the workspace ${workspace}`, "Fix env.render in the project config, or check that .ciloignore does not exclude the file");
  if (!statSync(path).isFile()) throw refuse("is not a file", "List files, not folders, under env.render");
  if (!isInside(root, realpathSync(dirname(path))))
    throw refuse("is reached through a symlink that leads out of the workspace", "List a file that lives in the project itself");
  return path;
}
