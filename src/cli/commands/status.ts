import type { CiloContext } from "../../core/context/context.ts";
import { envStatus } from "../../core/env/env-view.ts";
import { printJson, println, table } from "../output.ts";

export default async function status(ctx: CiloContext, env: string, opts: { project?: string; json?: boolean }): Promise<number> {
  const view = await envStatus(ctx, env, opts.project);
  if (opts.json) {
    printJson(view);
    return 0;
  }
  println(`${view.project}/${view.name}  ${view.status}  ${view.host ? `host ${view.host}  ` : ""}subnet ${view.subnet}  ${view.base_url}`);
  println(`workspace ${view.workspace}${view.remote_workspace ? ` (on host ${view.host}: ${view.remote_workspace}, pushed by cilo sync)` : ""}`);
  const r = view.reach;
  /** How the tables below say the env is reached: "" for a local env. */
  const via = r?.via === "ssh-forward" ? "via ssh forward" : r?.via === "remote-gateway" ? `via remote gateway ${r.address}:${r.http_port}` : "";
  if (r) {
    const idle = view.status === "running" ? "not running: cilo up or cilo doctor --fix starts it" : "none while the env is not running";
    if (r.via === "ssh-forward") {
      const how = r.running ? `running, pid ${r.pid ?? "?"}` : idle;
      println(`reached via ssh forward to host ${view.host} (${how}): the URLs and TCP forwards below lead there`);
    } else if (r.via === "remote-gateway") {
      println(
        `reached via remote gateway ${r.address}:${r.http_port} on host ${view.host} (${r.running ? "running" : view.status === "running" ? "not running: cilo up starts it" : "none while no env of the host runs"}): this machine's gateway sends the URLs below there; the TCP forwards are published on ${r.address}`,
      );
    } else {
      println(`not reached from this machine: ${r.why} (no URLs or TCP forwards here; see docs/remote.md)`);
    }
  }
  if (view.error) println(`error: ${view.error}`);
  if (view.operation) println(`operation in progress: ${view.operation.kind} (pid ${view.operation.pid}, since ${view.operation.started_at})`);
  println();
  println(
    table(
      ["SERVICE", "STATE", "HEALTH", "IP", "DNS"],
      view.services.map((s) => [s.name, s.state ?? "-", s.health ?? "-", s.ip ?? "-", s.dns.filter((d) => !d.startsWith("*")).join(", ")]),
    ),
  );
  const urls = view.services.flatMap((s) => s.urls.map((u) => [s.name, u]));
  if (urls.length > 0) {
    println();
    println(table(["SERVICE", via ? `URL (through the gateway, ${via})` : "URL (through the gateway)"], urls));
  }
  if (view.forwards.length > 0) {
    println();
    println(
      table(
        [
          "SERVICE",
          "PORT",
          r?.via === "remote-gateway" ? `TCP FORWARD (published by host ${view.host})` : via ? `TCP FORWARD (${via})` : "TCP FORWARD",
          "VARIABLE",
        ],
        view.forwards.map((f) => [f.service, String(f.port), `${f.address}:${f.host_port}`, f.variable]),
      ),
    );
  }
  return 0;
}
