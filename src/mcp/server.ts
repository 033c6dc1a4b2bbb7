import type { CiloContext } from "../core/context/context.ts";
import { readdirSync, readFileSync } from "node:fs";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import {
  type CallToolResult,
  CallToolRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { CiloError, isCiloError, messageOf } from "../core/errors.ts";
import { fsFault } from "../core/fs/fs-fault.ts";
import { ciloVersion } from "../version.ts";
import { inputValidators, loadToolSchemas, schemaUrl, type ToolName } from "./schemas.ts";
import { McpSession } from "./session.ts";
import { TOOLS } from "./tools.ts";

export interface McpServerOptions {
  /** `--all-envs`: the session may touch every env of the home, not only those it created. */
  allEnvs: boolean;
}

interface Resource {
  uri: string;
  name: string;
  description: string;
  mimeType: string;
  url: URL;
}

/**
 * `cilo mcp`: a Model Context Protocol server over stdio (the official SDK's `Server` with the
 * tool schemas of schema/cilo.mcp.schema.json). Resolves when the client goes away (stdin closes);
 * the caller then exits, which is what ends the session's leases (the reaper destroys its envs).
 */
export async function runMcpServer(ctx: CiloContext, opts: McpServerOptions): Promise<void> {
  const session = new McpSession(ctx, opts.allEnvs);
  const tools = loadToolSchemas();
  const validate = inputValidators(tools);
  const resources = listResources();
  const server = new Server(
    { name: "cilo", version: ciloVersion() },
    {
      capabilities: { tools: {}, resources: {} },
      instructions:
        "cilo makes isolated, running copies (envs) of a Docker Compose project. env_create then env_up gives you an env with its URLs; env_run runs commands in its workspace; envs you create are destroyed when this session ends unless created with keep: true.",
    },
  );

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const name = request.params.name as ToolName;
    const tool = Object.hasOwn(TOOLS, name) ? TOOLS[name] : undefined;
    const token = request.params._meta?.progressToken;
    let step = 0;
    // Sent before the result, so that a client (which stops listening at the result) gets them all.
    // The SDK's client handles a notification a microtask later than a result read in the same
    // chunk, so the result also waits a moment after the last one.
    const sending: Promise<void>[] = [];
    const progress = (message: string) => {
      if (token === undefined) return;
      step++;
      sending.push(extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: step, message } }).catch(() => {}));
    };
    try {
      if (!tool) throw new CiloError("E_USAGE", `cilo mcp has no tool "${request.params.name}"`, { hint: `Its tools: ${tools.map((t) => t.name).join(", ")}` });
      const args = request.params.arguments ?? {};
      validate(name, args);
      const signal = AbortSignal.any([extra.signal, session.ended.signal]);
      const result = await tool(session, args, { signal, progress });
      if (sending.length > 0) await Promise.all(sending).then(() => new Promise((r) => setTimeout(r, 20)));
      return { content: [{ type: "text", text: JSON.stringify(result, null, 2) }], structuredContent: result };
    } catch (e) {
      return toolError(e);
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: resources.map(({ uri, name, description, mimeType }) => ({ uri, name, description, mimeType })),
  }));

  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    const found = resources.find((r) => r.uri === request.params.uri);
    if (!found) throw new Error(`cilo mcp has no resource ${request.params.uri}; resources/list names them`);
    return { contents: [{ uri: found.uri, mimeType: found.mimeType, text: readFileSync(found.url, "utf8") }] };
  });

  const closed = new Promise<void>((resolve) => {
    // The client is gone when its end of stdin closes (it exited, was killed, or closed the pipe).
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
    server.onclose = () => resolve();
  });
  await server.connect(new StdioServerTransport());
  await closed;
  // Commands the session started (env_run, env_exec) are killed; operations in flight stop with the process.
  session.ended.abort(new CiloError("E_INTERRUPTED", "the MCP client went away"));
}

/**
 * A failed call as MCP wants it: a result with `isError` (never a protocol error, never a crashed
 * server) whose text is cilo's one-line message and hint, as the CLI prints them.
 */
function toolError(e: unknown): CallToolResult {
  const err = isCiloError(e) ? e : (fsFault(e) ?? undefined);
  const message = err ? err.message.split("\n")[0]! : `${messageOf(e).split("\n")[0]} (a bug in cilo)`;
  const lines = [`cilo: ${message}`, ...(err?.hint ? [`hint: ${err.hint}`] : [])];
  return {
    isError: true,
    content: [{ type: "text", text: lines.join("\n") }],
    _meta: { "cilo/error": { code: err?.code ?? "E_INTERNAL", exit_code: err?.exitCode ?? 1, message, ...(err?.hint ? { hint: err.hint } : {}) } },
  };
}

/** The workflow JSON Schema, the MCP tools' schema, and every page of docs/. */
function listResources(): Resource[] {
  const schemas: Resource[] = [
    {
      uri: "cilo://schema/workflow",
      name: "cilo.workflow.schema.json",
      description: "JSON Schema of cilo workflow files (cilo.workflow.yaml), for workflow_run",
      mimeType: "application/schema+json",
      url: schemaUrl("cilo.workflow.schema.json"),
    },
    {
      uri: "cilo://schema/mcp",
      name: "cilo.mcp.schema.json",
      description: "JSON Schema of every cilo mcp tool's input and result",
      mimeType: "application/schema+json",
      url: schemaUrl("cilo.mcp.schema.json"),
    },
  ];
  const docsDir = new URL("../../docs/", import.meta.url);
  let pages: string[] = [];
  try {
    pages = readdirSync(docsDir).filter((f) => f.endsWith(".md"));
  } catch {
    // an install without docs/: only the schemas
  }
  return [
    ...schemas,
    ...pages.sort().map((page) => ({
      uri: `cilo://docs/${page}`,
      name: page,
      description: `cilo documentation: docs/${page}`,
      mimeType: "text/markdown",
      url: new URL(page, docsDir),
    })),
  ];
}
