import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { CiloContext } from "../context/context.ts";
import { CiloError, ExitCode } from "../errors.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { DEFAULT_GATEWAY_HTTP_PORT, publishAddress } from "../gateway/settings.ts";
import { hostEndpoint } from "../host-endpoint.ts";
import { helperLabels, LABEL_HELPER } from "../labels.ts";
import { hostsDir } from "../paths.ts";
import { pollUntil } from "../poll.ts";
import type { RuntimeProvider } from "../runtime/provider.ts";
import { DEFAULT_HELPER_IMAGE } from "../snapshot/volume-copy.ts";
import { homeRef, readState } from "../state/store.ts";
import { findHost, hostUnreachable, pingHost, reasonOf } from "./hosts.ts";
import { refreshHostResolution } from "./resolve-name.ts";
import { hostReach } from "../gateway/host-reach.ts";

/** What `cilo host check --json` prints (schema/cilo.host.schema.json, `#/definitions/check`). */
export interface HostCheck {
  name: string;
  endpoint: string;
  engine: { version: string; api_version: string; host_name?: string; os?: string; root_dir?: string };
  /** The compose CLI of this machine, run against the host's endpoint (DOCKER_HOST): `ps` answered. */
  compose: { command: string; version: string };
  /** Round trip of one engine request (`/version`), median of `samples`, in ms (over SSH: one ssh connection each). */
  latency_ms: number;
  latency_samples_ms: number[];
  /** Free space of the file system under the engine's data root, from `df /` in a helper container (its root lives there). */
  disk: { free_bytes: number; total_bytes: number; via: string } | { unknown: string };
  /** Where the host's gateway would publish, and whether this machine reaches that address itself. */
  gateway: { address: string; port: number; reach: "direct" | "forward" | "none"; note: string };
}

const LATENCY_SAMPLES = 3;

/**
 * `cilo host check <name>`: the engine answers (version), the compose CLI reaches it through the
 * same endpoint, round-trip latency, free disk of the engine's data root, and the gateway's
 * address. A failed engine or compose check is E_HOST_UNREACHABLE (exit 3, one line naming the
 * host and the check); an unknown disk size is not a failure. Changes no state but the host's
 * `resolved` entry (what its engine name resolves to now, for a tcp:// host given by name).
 */
export async function checkHost(ctx: CiloContext, name: string): Promise<HostCheck> {
  const state = readState(ctx);
  // A tcp:// engine given by name: resolved now and recorded (host/resolve-name.ts).
  const rec = await refreshHostResolution(ctx, name, findHost(state, name));
  let endpoint: ReturnType<typeof hostEndpoint>;
  try {
    endpoint = hostEndpoint(ctx, name, rec);
  } catch (e) {
    throw new CiloError("E_HOST_UNREACHABLE", `host ${name} (Docker context ${rec.context}): endpoint failed: ${reasonOf(e)}`, {
      exitCode: ExitCode.prerequisite,
    });
  }
  const hctx = ctx.forEndpoint(endpoint);
  const version = await pingHost(hctx, name, endpoint, rec.resolved);
  const provider = await hctx.provider();

  const samples: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const t = performance.now();
    try {
      await provider.ping();
    } catch (e) {
      throw hostUnreachable(name, endpoint, "engine", reasonOf(e));
    }
    samples.push(Math.round((performance.now() - t) * 10) / 10);
  }
  const latency = [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;

  let details: Awaited<ReturnType<NonNullable<RuntimeProvider["info"]>>> = {};
  try {
    details = (await provider.info?.()) ?? {};
  } catch (e) {
    throw hostUnreachable(name, endpoint, "engine info", reasonOf(e));
  }

  const compose = await composeCheck(ctx, hctx, name, endpoint, state.home_id);
  const disk = await diskCheck(ctx, provider, state.home_id);
  const reach = hostReach(endpoint.host, rec.resolved);
  const address = reach.via === "remote-gateway" ? reach.address : publishAddress(endpoint.host);
  const local = address === "127.0.0.1";
  const port = state.config.gateway_http_port ?? DEFAULT_GATEWAY_HTTP_PORT;
  return {
    name,
    endpoint: endpoint.host,
    engine: {
      version: version.version,
      api_version: version.apiVersion,
      ...(details.name ? { host_name: details.name } : {}),
      ...(details.os ? { os: details.os } : {}),
      ...(details.rootDir ? { root_dir: details.rootDir } : {}),
    },
    compose,
    latency_ms: latency,
    latency_samples_ms: samples,
    disk,
    gateway:
      endpoint.host.startsWith("tcp://") && reach.via === "none"
        ? { address, port, reach: "none", note: `no names or TCP forwards of its envs here: ${reach.why}` }
        : local
          ? {
              address,
              port,
              reach: "forward",
              note: `on the loopback of ${name}'s engine host: this machine reaches it through an ssh -L forward (planned, docs/remote.md)`,
            }
          : { address, port, reach: "direct", note: `on the engine's address ${address}: reached directly when this machine routes to it` },
  };
}

/** `<compose> -p cilo_<home id>_hostcheck -f <probe> ps -q` bound to the host's endpoint: compose reaches that engine. */
async function composeCheck(ctx: CiloContext, hctx: CiloContext, name: string, endpoint: ReturnType<typeof hostEndpoint>, homeId: string) {
  const cli = await ctx.compose();
  const dir = join(hostsDir(ctx.home), name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "probe.compose.yml");
  writeFileAtomic(
    file,
    "# cilo host check: compose's ps on this project reaches the host's engine; nothing is created.\nservices:\n  probe:\n    image: cilo-host-probe\n",
    0o644,
    ctx.env,
  );
  const r = await hctx.runCompose(cli, { projectName: `cilo_${homeId}_hostcheck`, files: [file], cwd: dir }, ["ps", "-q"]);
  if (r.code !== 0) {
    const line = (r.stderr || r.stdout).trim().split("\n").filter(Boolean).pop() ?? `exit ${r.code}`;
    throw hostUnreachable(name, endpoint, `compose (${cli.command.join(" ")} ps)`, line);
  }
  return { command: cli.command.join(" "), version: cli.version };
}

/** `df -Pk /` in a short-lived helper container (no network) of `CILO_HELPER_IMAGE`; unknown when the host lacks the image (never pulled here). */
async function diskCheck(ctx: CiloContext, provider: RuntimeProvider, homeId: string): Promise<HostCheck["disk"]> {
  const image = ctx.env["CILO_HELPER_IMAGE"] || DEFAULT_HELPER_IMAGE;
  try {
    if (!(await provider.hasImage(image)))
      return { unknown: `the helper image ${image} is not on the host (cilo host check pulls nothing; set CILO_HELPER_IMAGE)` };
  } catch (e) {
    return { unknown: reasonOf(e) };
  }
  let id: string | undefined;
  try {
    id = await provider.createContainer({
      name: `cilo_${homeId}_hostcheck_${Math.random().toString(36).slice(2, 8)}`,
      image,
      cmd: ["df", "-Pk", "/"],
      labels: { ...helperLabels(homeRef(readState(ctx), ctx.home)), [LABEL_HELPER]: "host-check" },
      network: "none",
    });
    await provider.startContainer(id);
    const cid = id;
    await pollUntil(
      async () => {
        const c = await provider.inspectContainer(cid);
        return c && c.state !== "running" && c.state !== "created" ? { ready: true } : { ready: false, why: c?.state ?? "gone", fatal: !c };
      },
      { deadline: Date.now() + 20_000, intervalMs: 100, backoff: 1.5, maxIntervalMs: 1000 },
    );
    const out = await provider.logs(cid, 5);
    const f = out.trim().split("\n").pop()?.trim().split(/\s+/) ?? [];
    const total = Number(f[1]);
    const free = Number(f[3]);
    if (!Number.isFinite(total) || !Number.isFinite(free) || f.length < 6) return { unknown: `df printed ${JSON.stringify(out.trim().slice(0, 80))}` };
    return { free_bytes: free * 1024, total_bytes: total * 1024, via: `df / in a helper container (${image})` };
  } catch (e) {
    return { unknown: reasonOf(e) };
  } finally {
    if (id) await provider.removeContainer(id).catch(() => {});
  }
}
