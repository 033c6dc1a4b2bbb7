import { describeEndpoint, type DockerEndpoint } from "../../core/docker-endpoint.ts";
import { type EngineChoice, PODMAN_RLIMIT_HINT, PODMAN_RLIMIT_PATTERN, podmanServiceHint } from "../../core/engine.ts";
import { CiloError, ExitCode, messageOf, prerequisiteError } from "../../core/errors.ts";
import type { ContainerState, EngineInfo, RuntimeProvider, VolumeState } from "../../core/runtime/provider.ts";
import { DockerProvider, shortReason } from "../docker/docker-provider.ts";

/**
 * Podman through its Docker-compatible API (`podman system service`): the same requests as Docker,
 * so the Docker provider's code, with Podman's own errors turned into hints that fix them (the
 * service not started, the ulimit defaults a sandbox refuses). What differs is in docs/engines.md.
 */
export class PodmanProvider extends DockerProvider {
  override readonly name = "podman";

  /**
   * Podman's container list leaves health out of `Status` ("Up 3 minutes", never "(healthy)"):
   * a running container's health comes from inspecting it.
   */
  override async listContainers(labels: Record<string, string>): Promise<ContainerState[]> {
    const list = await super.listContainers(labels);
    return Promise.all(
      list.map(async (c) => {
        if (c.state !== "running" || c.health) return c;
        const health = (await this.inspectContainer(c.id))?.health;
        return health ? { ...c, health } : c;
      }),
    );
  }

  /**
   * Podman 4.3's volume list ORs several `label` filters (Docker ANDs them): asked for one env's
   * volumes it answers every volume carrying any of the labels, e.g. all of this home's. Filtered
   * here on every label, so destroying one env never reaches another's volumes.
   */
  override async listVolumes(labels?: Record<string, string>): Promise<VolumeState[]> {
    const list = await super.listVolumes(labels);
    if (!labels) return list;
    return list.filter((v) => Object.entries(labels).every(([k, want]) => (want === "" ? k in v.labels : v.labels[k] === want)));
  }

  protected override unreachable(e: unknown): CiloError {
    return prerequisiteError(
      "E_DOCKER_UNAVAILABLE",
      `Podman's API service at ${describeEndpoint(this.endpoint)} does not answer (${shortReason(e)})`,
      this.endpoint.host.startsWith("unix://")
        ? podmanServiceHint(this.endpoint.host)
        : "Start podman system service on that host, or point DOCKER_HOST at a running one",
      e,
    );
  }

  protected override wrap(e: unknown): CiloError {
    const text = String((e as { json?: { message?: unknown } } | null)?.json?.message ?? messageOf(e));
    if (!(e instanceof CiloError) && PODMAN_RLIMIT_PATTERN.test(text)) {
      return new CiloError("E_DOCKER", `Podman refused the request: ${text.split("\n")[0]}`, {
        exitCode: ExitCode.failure,
        hint: PODMAN_RLIMIT_HINT,
        cause: e,
      });
    }
    return super.wrap(e);
  }
}

/**
 * The provider for an endpoint: the engine `choice` names (CILO_ENGINE, cilo init --engine), else
 * the one its `/_ping` headers name (`identify`; the first ping reuses the answer). An endpoint
 * that does not answer gets the provider whose hint fits it: Podman's for a socket path naming podman.
 */
export async function openProvider(endpoint: DockerEndpoint, env: NodeJS.ProcessEnv, choice?: EngineChoice): Promise<RuntimeProvider> {
  if (choice) return choice.engine === "podman" ? new PodmanProvider(endpoint, env, { expect: choice }) : new DockerProvider(endpoint, env, { expect: choice });
  const probe = new DockerProvider(endpoint, env);
  let known: EngineInfo;
  try {
    known = await probe.identify();
  } catch {
    return /podman/i.test(endpoint.host) ? new PodmanProvider(endpoint, env) : probe;
  }
  return known.engine === "podman" ? new PodmanProvider(endpoint, env, { known }) : new DockerProvider(endpoint, env, { known });
}
