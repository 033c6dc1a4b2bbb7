import { type CiloContext, createContext, type Environment } from "./core/context/context.ts";

/**
 * A context over the container runtime (Docker or Podman through dockerode, loaded when a command first needs it): what the
 * CLI (`src/main.ts`, from the process) and the library (`src/lib.ts`, from its options) run on.
 */
export function makeContext(input: { env: Environment; cwd: string; home?: string }): CiloContext {
  return createContext({
    env: input.env,
    cwd: input.cwd,
    ...(input.home !== undefined ? { home: input.home } : {}),
    // Docker or Podman (docs/engines.md): the engine chosen, else the one the endpoint answers as.
    createProvider: async (endpoint, env, engine) => (await import("./providers/podman/podman-provider.ts")).openProvider(endpoint, env, engine),
  });
}
