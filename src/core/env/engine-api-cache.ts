import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CiloContext } from "../context/context.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { isRecord } from "../is-record.ts";

/**
 * The Docker API version each endpoint's engine answered last, kept in
 * `$CILO_HOME/cache/engine-api.json` (`{"<endpoint host>": "1.41"}`): `up` starts compose v1 with
 * it as `COMPOSE_API_VERSION` before its own ping has answered, and starts compose again when the
 * ping says otherwise (an engine upgraded or replaced). Only a cache: unreadable or wrong, it costs
 * a restart of a compose that has not read its file yet, never a wrong call.
 */
const API_VERSION = /^1\.\d{1,3}$/;

function cacheFile(ctx: CiloContext): string {
  return join(ctx.home, "cache", "engine-api.json");
}

function readAll(ctx: CiloContext): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(cacheFile(ctx), "utf8"));
    if (!isRecord(parsed)) return {};
    const out: Record<string, string> = {};
    for (const [host, v] of Object.entries(parsed)) if (typeof v === "string" && API_VERSION.test(v)) out[host] = v;
    return out;
  } catch {
    return {};
  }
}

/** The API version the engine at `host` answered last, if it was remembered. */
export function cachedApiVersion(ctx: CiloContext, host: string): string | undefined {
  return readAll(ctx)[host];
}

/** Remembers the API version the engine at `host` answered (a failure to write only costs time later). */
export function rememberApiVersion(ctx: CiloContext, host: string, apiVersion: string): void {
  if (!API_VERSION.test(apiVersion)) return;
  try {
    // No failpoints (an empty env) and no folder fsync: a cache, not state.
    writeFileAtomic(cacheFile(ctx), JSON.stringify({ ...readAll(ctx), [host]: apiVersion }), 0o644, {}, { syncDir: false });
  } catch {
    // The cache folder may not exist yet (made by the first model resolution) or be read-only.
  }
}
