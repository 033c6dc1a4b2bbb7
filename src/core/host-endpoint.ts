import { readTextFile, resolveDockerEndpoint, type DockerEndpoint } from "./docker-endpoint.ts";
import { isLocalIPv4, tcpHostPart } from "./host-address.ts";

// A leaf (not in host/): the gateway's routes and DNS need a host's address too, and host/ imports
// the gateway's settings.

/** What of a host record (state/schema.ts `HostRecord`) names its engine. */
interface HostAddress {
  address?: string;
  context?: string;
  tls_dir?: string;
  /** What its engine's host name resolved to (state/schema.ts `HostResolution`). */
  resolved?: Resolution;
}

interface Resolution {
  name: string;
  ipv4?: string;
}

/**
 * The Docker endpoint of a host: its address (with its TLS folder), or its Docker context resolved
 * now (a context's host may change after `host add`). Never the ambient DOCKER_HOST. An engine
 * named by a host name gets the address that name resolved to as its `publishAddress`.
 */
export function hostEndpoint<R extends HostAddress>(ctx: { env: NodeJS.ProcessEnv }, name: string, rec: R): DockerEndpoint {
  if (rec.address) {
    return withPublish({ host: rec.address, source: `host ${name}`, ...(rec.tls_dir ? { tlsPath: rec.tls_dir, tlsVerify: true } : {}) }, rec.resolved);
  }
  const env: NodeJS.ProcessEnv = { ...ctx.env, DOCKER_CONTEXT: rec.context };
  delete env["DOCKER_HOST"];
  delete env["DOCKER_TLS_VERIFY"];
  delete env["DOCKER_CERT_PATH"];
  const ep = resolveDockerEndpoint(env, readTextFile, "docker");
  return withPublish({ ...ep, source: `host ${name}`, context: rec.context! }, rec.resolved);
}

/** `ep` with the resolved address of its host name, when `resolved` is of that name and usable. */
function withPublish(ep: DockerEndpoint, resolved: Resolution | undefined): DockerEndpoint {
  const ip = resolved?.ipv4;
  return ip !== undefined && tcpHostPart(ep.host) === resolved!.name && !isLocalIPv4(ip) ? { ...ep, publishAddress: ip } : ep;
}
