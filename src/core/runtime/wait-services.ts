import { PODMAN_HEALTHCHECK_HINT } from "../engine.ts";
import { CiloError } from "../errors.ts";
import { LABEL_SERVICE } from "../labels.ts";
import { pollUntil, type Readiness } from "../poll.ts";
import { lastLogLines } from "./last-log-lines.ts";
import type { ContainerState, RuntimeProvider } from "./provider.ts";

export interface WaitOptions {
  /** Labels selecting the env's containers. */
  labels: Record<string, string>;
  /** Services to wait for (default: all with a container). */
  services?: string[];
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** Called when what is still pending changes: one entry per service not ready yet, with why. */
  onWaiting?: (pending: PendingService[]) => void;
}

/** A service not ready yet and why: `no container yet`, `starting (health)`, `created`… */
export interface PendingService {
  service: string;
  why: string;
}

/**
 * A service is ready when its container runs and, if it has a healthcheck, is healthy — or when it
 * is a one-shot that exited 0 (which `compose up --wait` gets wrong). A container that exited
 * non-zero or restarts fails at once, with its last log lines, instead of after the timeout.
 */
export function readiness(c: ContainerState): Readiness {
  if (c.state === "running") {
    if ((c.restartCount ?? 0) > 0) return { ready: false, why: `restarted ${c.restartCount} time(s)`, fatal: true };
    if (!c.health || c.health === "healthy") return { ready: true };
    return { ready: false, why: `${c.health} (health)`, fatal: false };
  }
  if (c.state === "exited" || c.state === "dead") {
    if (c.exitCode === 0 && (c.restartCount ?? 0) === 0) return { ready: true };
    return { ready: false, why: `exited with code ${c.exitCode ?? "?"}`, fatal: true };
  }
  if (c.state === "restarting") return { ready: false, why: "is restarting", fatal: true };
  return { ready: false, why: c.state, fatal: false };
}

/** Polls the env's containers until every selected service is ready; throws with the reason otherwise. */
export async function waitForServices(provider: RuntimeProvider, opts: WaitOptions): Promise<void> {
  let reported = "";
  const check = async (): Promise<Readiness> => {
    const listed = await provider.listContainers(opts.labels);
    const wanted = opts.services ?? [...new Set(listed.map((c) => c.labels[LABEL_SERVICE] ?? ""))].filter(Boolean);
    const pending: PendingService[] = [];
    for (const svc of wanted) {
      const mine = listed.filter((c) => c.labels[LABEL_SERVICE] === svc);
      if (mine.length === 0) {
        pending.push({ service: svc, why: "no container yet" });
        continue;
      }
      for (const summary of mine) {
        const c = (await provider.inspectContainer(summary.id)) ?? summary;
        const r = readiness(c);
        if (r.ready) continue;
        if (r.fatal) {
          throw new CiloError("E_SERVICE_FAILED", `Service "${svc}" ${r.why}${await lastLogLines(provider, c.id)}`, {
            hint: `See all of its output with: cilo logs ${opts.labels["cilo.project"] ?? ""}/${opts.labels["cilo.env"] ?? ""} ${svc}`,
          });
        }
        pending.push({ service: svc, why: r.why });
      }
    }
    const why = pending.map((p) => `${p.service}: ${p.why}`).join("; ");
    if (opts.onWaiting && why !== reported) {
      reported = why;
      opts.onWaiting(pending);
    }
    return pending.length === 0 && wanted.length > 0 ? { ready: true } : { ready: false, why, fatal: false };
  };
  await pollUntil(check, {
    deadline: Date.now() + opts.timeoutMs,
    intervalMs: opts.intervalMs ?? 500,
    ...(opts.signal ? { signal: opts.signal } : {}),
    interrupted: () => new CiloError("E_INTERRUPTED", "Waiting was interrupted", { exitCode: 130 }),
    timedOut: (last) =>
      new CiloError("E_WAIT_TIMEOUT", `Services not ready after ${Math.round(opts.timeoutMs / 1000)} s: ${last}`, {
        ...(provider.name === "podman" && /starting \(health\)/.test(last) ? { hint: PODMAN_HEALTHCHECK_HINT } : {}),
      }),
    initially: "no container yet",
  });
}
