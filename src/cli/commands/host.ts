import type { CiloContext } from "../../core/context/context.ts";
import { usageError } from "../../core/errors.ts";
import { checkHost } from "../../core/host/check.ts";
import { addHost, listHosts, removeHost } from "../../core/host/hosts.ts";
import { formatBytes } from "../progress.ts";
import { printJson, println, table, warn } from "../output.ts";

const ACTIONS = ["add", "list", "check", "rm"];

interface HostCommandOptions {
  json?: boolean;
  tlsDir?: string;
  check?: boolean;
  remoteRoot?: string;
}

/** `cilo host add|list|check|rm`: Docker hosts envs may run on (docs/remote.md). Core: src/core/host/. */
export default async function host(
  ctx: CiloContext,
  action: string,
  name: string | undefined,
  target: string | undefined,
  opts: HostCommandOptions,
): Promise<number> {
  if (!ACTIONS.includes(action)) throw usageError(`Unknown host action "${action}"`, `Use one of: ${ACTIONS.join(", ")}`);
  if (action === "list") {
    if (name !== undefined) throw usageError("cilo host list takes no name", "cilo host list [--json]");
    const hosts = listHosts(ctx);
    if (opts.json) printJson(hosts);
    else if (hosts.length === 0) println("No hosts (cilo host add <name> ssh://user@host)");
    else
      println(
        table(
          ["NAME", "ADDRESS", "ENVS"],
          hosts.map((h) => [h.name, h.address ?? `context ${h.context} (${h.endpoint ?? "does not resolve"})`, String(h.envs.length)]),
        ),
      );
    return 0;
  }
  if (!name)
    throw usageError(
      `cilo host ${action} needs a host name`,
      action === "add" ? "cilo host add <name> <ssh://user@host | tcp://host:2376 | context>" : `cilo host ${action} <name>`,
    );
  if (action === "add") {
    if (!target)
      throw usageError(
        "cilo host add needs an address or a Docker context",
        "cilo host add <name> <ssh://user@host[:port] | tcp://host:2376 --tls-dir <dir> | context>",
      );
    const { view, warnings } = await addHost(ctx, {
      name,
      target,
      ...(opts.tlsDir !== undefined ? { tlsDir: String(opts.tlsDir) } : {}),
      ...(opts.check === false ? { check: false } : {}),
      ...(opts.remoteRoot !== undefined ? { remoteRoot: String(opts.remoteRoot) } : {}),
    });
    for (const w of warnings) warn(w);
    if (opts.json) printJson(view);
    else println(`Added host ${view.name}: ${view.address ?? `Docker context ${view.context}`}`);
    return 0;
  }
  if (target !== undefined) throw usageError(`cilo host ${action} takes one host name`);
  if (action === "rm") {
    await removeHost(ctx, name);
    if (!opts.json) println(`Removed host ${name}`);
    else printJson({ removed: name });
    return 0;
  }
  const c = await checkHost(ctx, name);
  if (opts.json) {
    printJson(c);
    return 0;
  }
  const disk =
    "unknown" in c.disk ? `unknown: ${c.disk.unknown}` : `${formatBytes(c.disk.free_bytes)} free of ${formatBytes(c.disk.total_bytes)} (${c.disk.via})`;
  println(
    table(
      ["CHECK", "RESULT"],
      [
        ["endpoint", c.endpoint],
        ["engine", `Docker ${c.engine.version} (API ${c.engine.api_version})${c.engine.host_name ? ` on ${c.engine.host_name}` : ""}`],
        ["compose", `${c.compose.command} ${c.compose.version} reaches it`],
        ["latency", `${c.latency_ms} ms (median of ${c.latency_samples_ms.join(", ")})`],
        ["disk", `${c.engine.root_dir ? `${c.engine.root_dir}: ` : ""}${disk}`],
        ["gateway", `${c.gateway.address}:${c.gateway.port}, ${c.gateway.note}`],
      ],
    ),
  );
  return 0;
}
