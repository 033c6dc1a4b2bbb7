import type { RuntimeProvider } from "../../providers/provider.ts";
import type { ComposeCli } from "../compose/compose-cli.ts";

let provider: RuntimeProvider | undefined;
let compose: Promise<ComposeCli> | undefined;

/** The container runtime (Docker through dockerode), created once per process. */
export async function getProvider(): Promise<RuntimeProvider> {
  if (!provider) {
    const { DockerProvider } = await import("../../providers/docker/docker-provider.ts");
    provider = new DockerProvider();
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
