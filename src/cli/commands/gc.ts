import type { CiloContext } from "../../core/context/context.ts";
import { durationMs, isUnitless } from "../../core/duration.ts";
import { gcEnvs, type IdleEnv } from "../../core/env/gc-envs.ts";
import { usageError } from "../../core/errors.ts";
import { printJson, println } from "../output.ts";

interface GcCommandOptions {
  olderThan?: string | number;
  /** The same limit under the name of issue 15: no cilo operation on the env for that long. */
  idle?: string | number;
  dryRun?: boolean;
  json?: boolean;
}

/** `cilo gc [--older-than 7d] [--dry-run] [--json]`: exit 1 when an env could not be destroyed. */
export default async function gc(ctx: CiloContext, opts: GcCommandOptions): Promise<number> {
  if (opts.olderThan !== undefined && opts.idle !== undefined) throw usageError("Give either --idle or --older-than (the same limit), not both");
  const olderThan = String(opts.idle ?? opts.olderThan ?? "7d");
  const olderThanMs = parseAge(olderThan, opts.idle !== undefined ? "--idle" : "--older-than");
  const r = await gcEnvs(ctx, { olderThanMs, dryRun: !!opts.dryRun });
  if (opts.json) {
    printJson({
      older_than_ms: olderThanMs,
      dry_run: !!opts.dryRun,
      destroyed: r.destroyed.map(view),
      kept: r.kept.map((k) => ({ ...view(k), reason: k.reason })),
      failed: r.failed.map((f) => ({ ...view(f), error: f.error })),
    });
  } else {
    const verb = opts.dryRun ? "Would destroy" : "Destroyed";
    for (const d of r.destroyed) {
      println(`${verb} ${name(d)} (${d.why === "expired" ? `TTL ran out at ${d.env.expires_at}` : `last used ${d.lastUsed}, ${days(d.idleMs)} ago`})`);
    }
    for (const k of r.kept) println(`Kept ${name(k)}: ${k.reason}`);
    for (const f of r.failed) println(`Could not destroy ${name(f)}: ${f.error}`);
    if (r.destroyed.length + r.kept.length + r.failed.length === 0) println(`No env has been unused for more than ${olderThan}.`);
  }
  return r.failed.length > 0 ? 1 : 0;
}

/** A duration (src/core/duration.ts) with a unit: `7d`, `2w`, `1d12h`; a bare number is refused, its unit being unclear. */
export function parseAge(text: string, what = "--older-than"): number {
  const ms = isUnitless(text) ? undefined : durationMs(text);
  if (ms === undefined) throw usageError(`${what} "${text}" is not a duration such as 7d, 12h or 30m`);
  return ms;
}

function view(e: IdleEnv) {
  return {
    project: e.env.project,
    name: e.env.name,
    status: e.env.status,
    last_used_at: e.lastUsed,
    idle_ms: e.idleMs,
    reclaimed_because: e.why,
    ...(e.env.expires_at ? { expires_at: e.env.expires_at } : {}),
  };
}

function name(e: IdleEnv): string {
  return `${e.env.project}/${e.env.name}`;
}

function days(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 48 ? `${Math.floor(h / 24)} days` : h >= 1 ? `${Math.floor(h)} h` : `${Math.max(1, Math.floor(ms / 60_000))} min`;
}
