import { dependantsOf } from "../shared/dependants.ts";
import type { EnvRecord, State } from "../state/schema.ts";

/**
 * An env in `cilo list --json` (SPEC §6a, schema/cilo.list.schema.json) and MCP `env_list`; fields
 * may be added, never renamed. In core so that every front end (CLI, MCP) gives the same shape.
 */
export function envSummary(e: EnvRecord, state: State) {
  return {
    project: e.project,
    name: e.name,
    status: e.status,
    subnet: e.subnet,
    workspace: e.workspace,
    created_at: e.created_at,
    services: e.services.map((s) => s.name),
    shared_services: e.services.filter((s) => s.shared).map((s) => s.name),
    shared_networks: e.shared_networks ?? [],
    dependants: dependantsOf(state, e),
    ...(e.owner_pid !== undefined ? { lease: { holder: e.lease ?? "process", pid: e.owner_pid } } : {}),
    ...(e.expires_at !== undefined ? { expires_at: e.expires_at } : {}),
    ...(e.last_used_at !== undefined ? { last_used_at: e.last_used_at } : {}),
  };
}

/** The LEASE/TTL cell of `cilo list`: `mcp 1234`, `pid 1234`, `ttl 1h59m`, both, or `-`. */
export function leaseText(e: EnvRecord, now: number): string {
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
