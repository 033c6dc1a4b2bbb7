import type { CiloContext } from "../../core/context/context.ts";

/**
 * `cilo mcp [--all-envs]`: serves MCP over stdin/stdout until the client goes away (docs/mcp.md).
 * The SDK loads here only (its own chunk). When the client is gone the process exits at once: that
 * ends the session's leases, and the reaper destroys the envs it created.
 */
export default async function mcp(ctx: CiloContext, opts: { allEnvs?: boolean }): Promise<number> {
  const { runMcpServer } = await import("../../mcp/server.ts");
  await runMcpServer(ctx, { allEnvs: opts.allEnvs === true });
  process.exit(0);
}
