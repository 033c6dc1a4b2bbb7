import type { RuntimeProvider } from "./provider.ts";
import type { ComposeCli } from "../compose/compose-cli.ts";

let provider: RuntimeProvider | undefined;
let createProvider: (() => Promise<RuntimeProvider>) | undefined;
let compose: Promise<ComposeCli> | undefined;

/**
 * Which container runtime getProvider creates. core names no implementation: src/main.ts, the
 * composition root, registers the Docker provider (src/providers/docker) before any command runs.
 */
export function registerProvider(create: () => Promise<RuntimeProvider>): void {
  createProvider = create;
}

/** The container runtime (Docker through dockerode), created once per process. */
export async function getProvider(): Promise<RuntimeProvider> {
  if (!provider) {
    if (!createProvider) throw new Error("No container runtime is registered (src/main.ts registers Docker)");
    provider = await createProvider();
  }
  return provider;
}

/** The compose CLI, detected once per process (and cached across processes). */
export function getCompose(): Promise<ComposeCli> {
  if (!compose) {
    compose = import("../compose/compose-cli.ts").then((m) => m.detectCompose());
    compose.catch(() => {
      compose = undefined;
    });
  }
  return compose;
}

/** For tests: use this provider instead of Docker. */
export function setProvider(p: RuntimeProvider | undefined): void {
  provider = p;
}
