import { readTextFile, resolveDockerEndpoint, type DockerEndpoint } from "./docker-endpoint.ts";

// A leaf (not in host/): the gateway's routes and DNS need a host's address too, and host/ imports
// the gateway's settings.

/** What of a host record (state/schema.ts `HostRecord`) names its engine. */
interface HostAddress {
  address?: string;
  context?: string;
  tls_dir?: string;
}

/**
 * The Docker endpoint of a host: its address (with its TLS folder), or its Docker context resolved
 * now (a context's host may change after `host add`). Never the ambient DOCKER_HOST.
 */
export function hostEndpoint<R extends HostAddress>(ctx: { env: NodeJS.ProcessEnv }, name: string, rec: R): DockerEndpoint {
  if (rec.address) {
    return { host: rec.address, source: `host ${name}`, ...(rec.tls_dir ? { tlsPath: rec.tls_dir, tlsVerify: true } : {}) };
  }
  const env: NodeJS.ProcessEnv = { ...ctx.env, DOCKER_CONTEXT: rec.context };
  delete env["DOCKER_HOST"];
  delete env["DOCKER_TLS_VERIFY"];
  delete env["DOCKER_CERT_PATH"];
  const ep = resolveDockerEndpoint(env, readTextFile, "docker");
  return { ...ep, source: `host ${name}`, context: rec.context! };
}
