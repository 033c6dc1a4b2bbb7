import { type CiloContext, createContext, type Environment } from "./core/context/context.ts";

/**
 * A context over the Docker runtime (dockerode, loaded when a command first needs it): what the
 * CLI (`src/main.ts`, from the process) and the library (`src/lib.ts`, from its options) run on.
 */
export function makeContext(input: { env: Environment; cwd: string; home?: string }): CiloContext {
  return createContext({
    env: input.env,
    cwd: input.cwd,
    ...(input.home !== undefined ? { home: input.home } : {}),
    createProvider: async (endpoint, env) => new (await import("./providers/docker/docker-provider.ts")).DockerProvider(endpoint, env),
  });
}
