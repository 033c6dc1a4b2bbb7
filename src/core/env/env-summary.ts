/** The LEASE/TTL cell of `cilo list`: `mcp 1234`, `pid 1234`, `ttl 1h59m`, both, or `-` (from a record or an env object). */
export function leaseText(e: { owner_pid?: number; lease?: "mcp"; expires_at?: string }, now: number): string {
  if (e.owner_pid === undefined && e.expires_at === undefined) return "-";
  const parts: string[] = [];
  if (e.owner_pid !== undefined) parts.push(`${e.lease ?? "pid"} ${e.owner_pid}`);
  if (e.expires_at !== undefined) parts.push(`ttl ${remaining(Date.parse(e.expires_at) - now)}`);
  return parts.join(", ") || "-";
}

function remaining(ms: number): string {
  if (!(ms > 0)) return "expired";
  const m = Math.ceil(ms / 60_000);
  return m >= 60 ? `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ""}` : `${m}m`;
}
