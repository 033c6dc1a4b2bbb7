import { CiloError } from "../errors.ts";
import { LABEL_SERVICE } from "../labels.ts";
import type { ContainerState, RuntimeProvider } from "./provider.ts";

export interface WaitOptions {
  /** Labels selecting the env's containers. */
  labels: Record<string, string>;
  /** Services to wait for (default: all with a container). */
  services?: string[];
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

export type Readiness = { ready: true } | { ready: false; why: string; fatal: boolean };

/**
 * A service is ready when its container runs and, if it has a healthcheck, is healthy — or when it
 * is a one-shot that exited 0 (which `compose up --wait` gets wrong). A container that exited
 * non-zero or restarts fails at once, with its last log lines, instead of after the timeout.
 */
export function readiness(c: ContainerState): Readiness {
  if (c.state === "running") {
    if ((c.restartCount ?? 0) > 0) return { ready: false, why: `restarted ${c.restartCount} time(s)`, fatal: true };
    if (!c.health || c.health === "healthy") return { ready: true };
    return { ready: false, why: `health is ${c.health}`, fatal: false };
  }
  if (c.state === "exited" || c.state === "dead") {
    if (c.exitCode === 0 && (c.restartCount ?? 0) === 0) return { ready: true };
    return { ready: false, why: `exited with code ${c.exitCode ?? "?"}`, fatal: true };
  }
  if (c.state === "restarting") return { ready: false, why: "is restarting", fatal: true };
  return { ready: false, why: `is ${c.state}`, fatal: false };
}

/** Polls the env's containers until every selected service is ready; throws with the reason otherwise. */
export async function waitForServices(provider: RuntimeProvider, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 500;
  let last = "no containers yet";
  for (;;) {
    if (opts.signal?.aborted) throw new CiloError("E_INTERRUPTED", "Waiting was interrupted", { exitCode: 130 });
    const listed = await provider.listContainers(opts.labels);
    const wanted = opts.services ?? [...new Set(listed.map((c) => c.labels[LABEL_SERVICE] ?? ""))].filter(Boolean);
    const pending: string[] = [];
    for (const svc of wanted) {
      const mine = listed.filter((c) => c.labels[LABEL_SERVICE] === svc);
      if (mine.length === 0) {
        pending.push(`${svc} has no container`);
        continue;
      }
      for (const summary of mine) {
        const c = (await provider.inspectContainer(summary.id)) ?? summary;
        const r = readiness(c);
        if (r.ready) continue;
        if (r.fatal) {
          const logs = (await provider.logs(c.id, 10).catch(() => "")).trimEnd();
          throw new CiloError("E_SERVICE_FAILED", `Service "${svc}" ${r.why}${logs ? `; last log lines:\n${indent(logs)}` : ""}`, {
            hint: `See all of its output with: cilo logs ${opts.labels["cilo.project"] ?? ""}/${opts.labels["cilo.env"] ?? ""} ${svc}`,
          });
        }
        pending.push(`${svc} ${r.why}`);
      }
    }
    if (pending.length === 0 && wanted.length > 0) return;
    last = pending.join(", ") || last;
    if (Date.now() >= deadline) {
      throw new CiloError("E_WAIT_TIMEOUT", `Services not ready after ${Math.round(opts.timeoutMs / 1000)} s: ${last}`);
    }
    await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(0, deadline - Date.now()))));
  }
}

function indent(s: string): string {
  return s
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}
