// cilo mcp (issue 15): env_create + env_up through one warm MCP server (the SDK's own client over
// stdio) against cilo create + cilo up through the CLI, same project, same run, alternating, N
// trials each (medians compared; target ≤ 1.05×); and the server's own latency for env_status on a
// warm server (p50 of many calls; target ≤ 20 ms).
//   node --import tsx bench/mcp.ts [--runs 3] [--status-calls 200]
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { freePort } from "../test/helpers/docker.ts";
import { median, numberArg, printTable, type Row, sh, timeAsync, timeMs } from "./lib.ts";

const root = new URL("..", import.meta.url).pathname;
const RUNS = numberArg("--runs", 3);
const STATUS_CALLS = numberArg("--status-calls", 200);
const project = `benchmcp-${Math.random().toString(36).slice(2, 6)}`;
const home = mkdtempSync(join(tmpdir(), "cilo-bench-mcp-"));
const src = join(home, "src", project);
cpSync(join(root, "examples/basic"), src, { recursive: true });
writeFileSync(join(src, ".cilo", "config.yml"), `project: ${project}\n`);
const env = { ...(process.env as Record<string, string>), CILO_HOME: home, NO_COLOR: "1" };
const ciloArgs = [process.execPath, join(root, "dist/cilo.mjs")];
const cilo = (...a: string[]) => sh(ciloArgs[0]!, [...ciloArgs.slice(1), ...a], { env, cwd: src });

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<any> {
  const r: any = await client.callTool({ name, arguments: args }, undefined, { timeout: 300_000 });
  if (r.isError) throw new Error(`${name}: ${r.content?.[0]?.text}`);
  return r.structuredContent;
}

const rows: Row[] = [];
let client: Client | undefined;
try {
  cilo("init", "--dns-port", String(await freePort()));
  client = new Client({ name: "bench", version: "1" });
  await client.connect(new StdioClientTransport({ command: ciloArgs[0]!, args: [...ciloArgs.slice(1), "mcp"], cwd: src, env, stderr: "inherit" }));
  await call(client, "env_list", {}); // warm: the server has loaded its tools
  const viaMcp: number[] = [];
  const viaCli: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c = `c${i}`;
    viaCli.push(
      timeMs(() => {
        cilo("create", c);
        cilo("up", c, "--wait");
      }),
    );
    const m = `m${i}`;
    viaMcp.push(
      await timeAsync(async () => {
        await call(client!, "env_create", { name: m });
        await call(client!, "env_up", { env: m });
      }),
    );
    console.log(`trial ${i + 1}: cli create+up ${viaCli[i]!.toFixed(0)} ms, mcp env_create+env_up ${viaMcp[i]!.toFixed(0)} ms`);
    if (i === 0) {
      const latencies: number[] = [];
      for (let n = 0; n < STATUS_CALLS; n++) latencies.push(await timeAsync(() => call(client!, "env_status", { env: m })));
      const p50 = median(latencies);
      const sorted = [...latencies].sort((a, b) => a - b);
      const p95 = sorted[Math.floor(sorted.length * 0.95)]!;
      console.log(`env_status on a warm server, ${STATUS_CALLS} calls: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`);
      const viaCliStatus: number[] = [];
      for (let n = 0; n < 5; n++) viaCliStatus.push(timeMs(() => cilo("status", m, "--json")));
      rows.push({
        what: `MCP env_status round trip, warm server (p50 of ${STATUS_CALLS})`,
        value: p50,
        unit: "ms",
        versus: "cilo status --json through the CLI (median of 5)",
        base: median(viaCliStatus),
        target: "≤ 20 ms",
        ok: p50 <= 20,
      });
    }
    cilo("destroy", c, "--force");
    await call(client, "env_destroy", { env: m });
  }
  const mcp = median(viaMcp);
  const cli = median(viaCli);
  rows.unshift({
    what: `MCP env_create + env_up (median of ${RUNS})`,
    value: mcp,
    unit: "ms",
    versus: `cilo create + cilo up --wait, same project (median of ${RUNS})`,
    base: cli,
    target: "≤ 1.05×",
    ok: mcp <= cli * 1.05,
  });
} finally {
  await client?.close().catch(() => {});
  try {
    cilo("dns", "stop");
  } catch {
    /* not running */
  }
  rmSync(home, { recursive: true, force: true });
}
printTable(`mcp: the MCP server against the CLI, ${RUNS} trials`, rows);
