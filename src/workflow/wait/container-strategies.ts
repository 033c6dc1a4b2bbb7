import { CiloError } from "../../core/errors.ts";
import { LABEL_SERVICE } from "../../core/labels.ts";
import { pollUntil, type Readiness } from "../../core/poll.ts";
import { lastLogLines } from "../../core/runtime/last-log-lines.ts";
import type { ContainerState, RuntimeProvider } from "../../core/runtime/provider.ts";
import { readiness, waitForServices } from "../../core/runtime/wait-services.ts";
import { pollingStrategy, type WaitStrategy } from "./wait-strategy.ts";

/** The containers of one env, as the strategies below see them. */
export interface EnvContainers {
  provider: RuntimeProvider;
  /** Labels selecting the env's containers. */
  labels: Record<string, string>;
}

/** Compose healthchecks pass (all services, or the listed ones): the same check as `cilo up --wait`. */
export function healthStrategy(env: EnvContainers, services: string[] | undefined): WaitStrategy {
  return {
    label: services ? `${services.join(", ")} healthy` : "every service healthy",
    async waitUntilReady({ deadline, intervalMs, signal }) {
      await waitForServices(env.provider, {
        labels: env.labels,
        ...(services ? { services } : {}),
        timeoutMs: Math.max(0, deadline - Date.now()),
        intervalMs,
        signal,
      });
    },
  };
}

/** A line of a service's log contains the text, or matches `/regex/flags`. */
export function logStrategy(env: EnvContainers, service: string, line: string): WaitStrategy {
  const regex = /^\/(.*)\/([a-z]*)$/s.exec(line);
  const matches = regex ? (l: string) => new RegExp(regex[1]!, regex[2]).test(l) : (l: string) => l.includes(line);
  return pollingStrategy(`the log of ${service} shows ${regex ? line : JSON.stringify(line)}`, async () => {
    const mine = await serviceContainers(env, service);
    if (mine.length === 0) return { ready: false, why: `${service} has no container`, fatal: false };
    for (const c of mine) {
      const text = await env.provider.logs(c.id, 10_000);
      if (text.split("\n").some(matches)) return { ready: true };
    }
    return { ready: false, why: "no such line yet", fatal: false };
  });
}

/** A service's container has exited with `code`; exiting with another code fails at once. */
export function exitStrategy(env: EnvContainers, service: string, code: number): WaitStrategy {
  return pollingStrategy(`${service} exits with code ${code}`, async (): Promise<Readiness> => {
    const mine = await serviceContainers(env, service);
    if (mine.length === 0) return { ready: false, why: `${service} has no container`, fatal: false };
    for (const c of mine) {
      if (c.state !== "exited" && c.state !== "dead") return { ready: false, why: `${service} is ${c.state}`, fatal: false };
      if (c.exitCode !== code) return { ready: false, why: `it exited with code ${c.exitCode ?? "?"}${await lastLogLines(env.provider, c.id)}`, fatal: true };
    }
    return { ready: true };
  });
}

/**
 * Never ready: fails as soon as a service of the env (other than `except`) exits non-zero or
 * restarts, with its last log lines, so a wait does not sit out its timeout on a crashed service.
 */
export function failedServiceGuard(env: EnvContainers, except: string[]): WaitStrategy {
  return {
    label: "no service has failed",
    async waitUntilReady({ intervalMs, signal }) {
      await pollUntil(
        async () => {
          for (const c of await env.provider.listContainers(env.labels)) {
            const service = c.labels[LABEL_SERVICE] ?? c.name;
            if (except.includes(service)) continue;
            const r = readiness(c);
            if (!r.ready && r.fatal) throw new CiloError("E_SERVICE_FAILED", `Service "${service}" ${r.why}${await lastLogLines(env.provider, c.id)}`);
          }
          return { ready: false, why: "", fatal: false };
        },
        { deadline: Number.POSITIVE_INFINITY, intervalMs, signal },
      );
    },
  };
}

async function serviceContainers(env: EnvContainers, service: string): Promise<ContainerState[]> {
  const listed = await env.provider.listContainers({ ...env.labels, [LABEL_SERVICE]: service });
  const inspected = await Promise.all(listed.map((c) => env.provider.inspectContainer(c.id)));
  return inspected.map((c, i) => c ?? listed[i]!);
}
