// A home holding one env on a tcp:// host, for unit tests over fake engines (no engine is asked).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { CiloContext } from "../../src/core/context/context.ts";
import { addHost } from "../../src/core/host/hosts.ts";
import { envDockerName } from "../../src/core/labels.ts";
import type { ServiceRecord } from "../../src/core/state/schema.ts";
import { initState, readState, withState } from "../../src/core/state/store.ts";

/**
 * Makes the home of `ctx`: host t1 at `target` (added without a check), and env shop/n1 running on
 * it on 10.224.9.0/24 with `services`, its local workspace made. Returns the home's id and the
 * env's Docker name (its network and compose project on the host).
 */
export async function initRemoteEnvHome(ctx: CiloContext, target: string, services: ServiceRecord[]): Promise<{ homeId: string; docker: string }> {
  await initState(ctx, {});
  await addHost(ctx, { name: "t1", target, check: false });
  const homeId = readState(ctx).home_id;
  const docker = envDockerName(homeId, "shop", "n1");
  const workspace = join(ctx.home, "envs", "shop", "n1");
  mkdirSync(workspace, { recursive: true });
  await withState(ctx, (s) => {
    s.envs["shop/n1"] = {
      project: "shop",
      name: "n1",
      docker_name: docker,
      status: "running",
      subnet: "10.224.9.0/24",
      workspace,
      host: "t1",
      created_at: "2026-01-01T00:00:00.000Z",
      updated_at: "2026-01-01T00:00:00.000Z",
      services,
    };
  });
  return { homeId, docker };
}
