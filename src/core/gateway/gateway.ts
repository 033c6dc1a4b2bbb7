import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { GATEWAY_TUNNEL_DIR, tunnelDir } from "./tunnel-names.ts";
import { isIP } from "node:net";
import { CiloError, ExitCode, messageOf } from "../errors.ts";
import type { CiloContext } from "../context/context.ts";
import { lockTimeoutMs, withFileLock } from "../fs/file-lock.ts";
import { isImageReference } from "../image-ref.ts";
import { gatewayContainerName, gatewayLabels, LABEL_GATEWAY, LABEL_HOME, LABEL_MANAGED } from "../labels.ts";
import type { ContainerState, RuntimeProvider } from "../runtime/provider.ts";
import type { State } from "../state/schema.ts";
import { homeRef, readState, withState } from "../state/store.ts";

export { DEFAULT_GATEWAY_HTTP_PORT, DEFAULT_GATEWAY_HTTPS_PORT, DEFAULT_GATEWAY_IMAGE, gatewayDisabled, publishAddress };
import { effectiveRouting, needsProbe, probeRecord, gatewayAnswersAt } from "./routing.ts";
import {
  GATEWAY_CONFIG_DIR,
  GATEWAY_CONFIG_FILE,
  GATEWAY_INNER_HTTP_PORT,
  gatewayAliases,
  gatewayNeeded,
  gatewayNetworks,
  gatewayRoutes,
  renderGatewayConfig,
} from "./render.ts";
import { ensureCa } from "./ca.ts";
import { GATEWAY_FRONT_PATH, GATEWAY_LAYOUT, gatewayCommand, renderFrontConfig } from "./front.ts";
import { DEFAULT_GATEWAY_HTTP_PORT, DEFAULT_GATEWAY_HTTPS_PORT, DEFAULT_GATEWAY_IMAGE, gatewayDisabled, publishAddress } from "./settings.ts";
import { hostReachesFor } from "./host-reach.ts";
import { GATEWAY_CA_CERT, GATEWAY_CA_KEY, GATEWAY_INNER_HTTPS_PORT } from "./render-tls.ts";

/** The label holding what the container was made with (image, address, port): a change recreates it. */
const LABEL_GATEWAY_SETTINGS = "cilo.gateway.settings";
const CONFIG_PATH = `${GATEWAY_CONFIG_DIR}/${GATEWAY_CONFIG_FILE}`;
const READY_TIMEOUT_MS = 15_000;

export interface GatewaySettings {
  image: string;
  /** Host address the HTTP port is published on: 127.0.0.1 for a local engine, the engine's address for a `tcp://<ip>` one. */
  address: string;
  httpPort: number;
  httpsPort: number;
}

/**
 * The image, address and port of this home's gateway: `CILO_GATEWAY_IMAGE`, else state, else
 * defaults; published on `published` (a host name's resolved address) when given.
 */
export function gatewaySettings(
  state: State,
  engineAddress: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  published?: string,
): GatewaySettings {
  const fromEnv = env["CILO_GATEWAY_IMAGE"];
  if (fromEnv !== undefined && fromEnv !== "" && !isImageReference(fromEnv)) {
    throw new CiloError("E_USAGE", `CILO_GATEWAY_IMAGE ${JSON.stringify(String(fromEnv).slice(0, 60))} is not an image reference such as caddy:2`, {
      exitCode: ExitCode.usage,
    });
  }
  return {
    image: fromEnv || state.config.gateway_image || DEFAULT_GATEWAY_IMAGE,
    address: published ?? publishAddress(engineAddress),
    httpPort: state.config.gateway_http_port ?? DEFAULT_GATEWAY_HTTP_PORT,
    httpsPort: state.config.gateway_https_port ?? DEFAULT_GATEWAY_HTTPS_PORT,
  };
}

export type GatewaySyncResult =
  | { action: "disabled" }
  | { action: "none" }
  | { action: "removed" }
  | { action: "created" | "reloaded"; container: string; routes: number; reloadMs: number; routingChanged?: boolean };

/**
 * This home's gateway containers (one, unless something went wrong), found by labels and name:
 * this machine's, or with `host` the one of that host. A host's gateway made before it was named
 * after its host (`cilo_<home id>_gateway` on the host's engine) is one of them when it publishes on
 * `hostAddress` (the host's; this machine's gateway on an engine that is also a host's publishes
 * on the loopback, and is never taken for it).
 */
export async function findGateway(provider: RuntimeProvider, homeId: string, host?: string, hostAddress?: string): Promise<ContainerState[]> {
  const list = await provider.listContainers({ [LABEL_MANAGED]: "true", [LABEL_GATEWAY]: "true", [LABEL_HOME]: homeId });
  const legacy = (c: ContainerState) =>
    host !== undefined &&
    hostAddress !== undefined &&
    c.name === gatewayContainerName(homeId) &&
    (c.labels[LABEL_GATEWAY_SETTINGS] ?? "").split(" ")[1]?.startsWith(`${hostAddress}:`) === true;
  return list.filter((c) => c.name === gatewayContainerName(homeId, host) || legacy(c));
}

/**
 * Makes this home's gateway match the state: rendered routes, networks joined, started when some
 * env has a route to proxy and removed when none has. The config goes in with a file copy and a
 * `caddy reload` (graceful: in-flight requests finish on the old config). Serialised per home by a
 * lock. A port another program holds is E_GATEWAY_PORT_TAKEN (exit 3), leaving no container behind.
 */
export async function syncGateway(ctx: CiloContext, scope: { host?: string } = {}): Promise<GatewaySyncResult> {
  if (gatewayDisabled(ctx.env)) return { action: "disabled" };
  const provider = await ctx.provider();
  const home = ctx.home;
  const remote = scope.host !== undefined;
  return withFileLock(join(home, remote ? `gateway-${scope.host}` : "gateway"), lockTimeoutMs(ctx.env), async () => {
    const state = readState(ctx);
    const routes = gatewayRoutes(state, { ...scope, reaches: hostReachesFor(ctx, state) });
    // A host's gateway publishes on the host's address (its engine's, or what its name resolved to).
    const hostAddress = remote ? (ctx.endpoint().publishAddress ?? publishAddress(ctx.endpoint().host)) : undefined;
    const existing = await findGateway(provider, state.home_id, scope.host, hostAddress);
    if (!gatewayNeeded(routes)) {
      for (const c of existing) await provider.removeContainer(c.id);
      return { action: existing.length > 0 ? "removed" : "none" };
    }
    const settings = gatewaySettings(state, provider.address, ctx.env, hostAddress);
    const ca = ensureCa(home, state.home_id);
    // A new root (its files removed from the home) recreates the container: Caddy keeps the old
    // root's intermediate in its storage otherwise. So does another layout (front + back Caddy).
    // The tunnels folder (remote envs' names, docs/remote.md) is mounted when the engine runs on
    // this machine: a folder of this machine means nothing to an engine elsewhere.
    const tunnels = !remote && localEngine(provider.address) ? tunnelDir(home) : undefined;
    if (tunnels) mkdirSync(tunnels, { recursive: true, mode: 0o700 });
    const fingerprint = `${settings.image} ${settings.address}:${settings.httpPort} https:${settings.httpsPort} ca:${ca.fingerprint.slice(0, 16)} ${GATEWAY_LAYOUT}${tunnels ? " tunnels" : ""}`;
    const name = gatewayContainerName(state.home_id, scope.host);
    const keep = existing.find((c) => c.name === name && c.state === "running" && c.labels[LABEL_GATEWAY_SETTINGS] === fingerprint);
    for (const c of existing) if (c !== keep) await provider.removeContainer(c.id);
    const config = renderGatewayConfig(routes, { caFingerprint: ca.fingerprint });
    const putCa = async (id: string) => {
      await provider.putFile(id, GATEWAY_CA_KEY, ca.key, 0o600);
      await provider.putFile(id, GATEWAY_CA_CERT, ca.cert);
    };
    const networks = gatewayNetworks(state, scope.host);
    const aliases = gatewayAliases(state, routes, scope.host);
    // The routing probe is about this machine's engine: a host's gateway never changes it.
    const probe = (id: string) => (remote ? Promise.resolve(false) : probeRouting(ctx, provider, id));
    const started = Date.now();
    if (keep) {
      await joinNetworks(provider, (await provider.inspectContainer(keep.id)) ?? keep, networks, aliases, state.home_id);
      await putCa(keep.id);
      await provider.putFile(keep.id, CONFIG_PATH, config);
      const r = await provider.exec(keep.id, reloadCommand());
      if (r.code !== 0) throw gatewayError(`The gateway refused its new config: ${lastLine(r.output)}`);
      const reloadMs = Date.now() - started;
      return { action: "reloaded", container: keep.name, routes: routes.length, reloadMs, routingChanged: await probe(keep.id) };
    }
    const id = await createGateway(provider, name, homeRef(state, home), settings, fingerprint, tunnels);
    try {
      for (const n of networks) await provider.connectNetwork(n, id, aliases[n] ?? []);
      await putCa(id);
      await provider.putFile(id, GATEWAY_FRONT_PATH, renderFrontConfig());
      await provider.putFile(id, CONFIG_PATH, config);
      try {
        await provider.startContainer(id);
      } catch (e) {
        if (e instanceof CiloError && e.code === "E_DOCKER_PORT_TAKEN") throw portTaken(settings, e.message);
        throw e;
      }
      await waitReady(provider, id);
    } catch (e) {
      await provider.removeContainer(id).catch(() => {});
      throw e;
    }
    const reloadMs = Date.now() - started;
    return {
      action: "created",
      container: name,
      routes: routes.length,
      reloadMs,
      routingChanged: await probe(id),
    };
  });
}

/**
 * This machine's gateway after a change of an env on a host (its names go through it, docs/remote.md
 * "Names"): as `syncGateway`, except that a machine without an engine of its own is no error, it
 * only has no HTTP names for remote envs.
 */
export async function syncLocalGateway(local: CiloContext): Promise<GatewaySyncResult> {
  try {
    return await syncGateway(local);
  } catch (e) {
    if (e instanceof CiloError && e.code === "E_DOCKER_UNAVAILABLE") return { action: "none" };
    throw e;
  }
}

/**
 * `auto` routing (docs/routing.md, "Modes"): once per engine endpoint, whether this host reaches
 * the running gateway's container IP (an HTTP request its own 404 page answers). The finding is recorded in
 * state; true when it changed the routing in force, so the caller refreshes DNS.
 */
async function probeRouting(ctx: CiloContext, provider: RuntimeProvider, id: string): Promise<boolean> {
  const endpoint = ctx.endpoint().host;
  if (!needsProbe(readState(ctx).config, endpoint)) return false;
  const ip = Object.values((await provider.inspectContainer(id))?.ips ?? {}).find((a) => isIP(a) === 4);
  if (ip === undefined) return false;
  const target = `${ip}:${GATEWAY_INNER_HTTP_PORT}`;
  const record = probeRecord(endpoint, target, await gatewayAnswersAt(ip, GATEWAY_INNER_HTTP_PORT), new Date(ctx.clock.now()));
  return withState(ctx, (state) => {
    const before = effectiveRouting(state.config).mode;
    state.config.routing_probe = record;
    return effectiveRouting(state.config).mode !== before;
  });
}

/**
 * Takes this home's gateways off an env's network before the network goes (`down`, `destroy`):
 * Docker refuses to remove a network a container is still on. Every gateway of the home on the
 * env's engine (this machine's, a host's, or both when that engine is a host's too). No gateway,
 * nothing to do.
 */
export async function detachGateway(ctx: CiloContext, homeId: string, network: string): Promise<void> {
  if (gatewayDisabled(ctx.env)) return;
  const provider = await ctx.provider();
  const local = gatewayContainerName(homeId);
  const gateways = await provider.listContainers({ [LABEL_MANAGED]: "true", [LABEL_GATEWAY]: "true", [LABEL_HOME]: homeId });
  for (const c of gateways) if (c.name === local || c.name.startsWith(`${local}.`)) await provider.disconnectNetwork(network, c.id);
}

async function createGateway(
  provider: RuntimeProvider,
  name: string,
  home: { id: string; path: string },
  s: GatewaySettings,
  fingerprint: string,
  tunnels?: string,
): Promise<string> {
  if (!(await provider.hasImage(s.image))) {
    try {
      await provider.pullImage(s.image);
    } catch (e) {
      throw gatewayError(`The gateway image ${s.image} is not on the engine and could not be pulled (${lastLine(messageOf(e))})`, e);
    }
  }
  return provider.createContainer({
    name,
    image: s.image,
    cmd: gatewayCommand(),
    labels: { ...gatewayLabels(home), [LABEL_GATEWAY_SETTINGS]: fingerprint },
    publish: [
      { hostIp: s.address, hostPort: s.httpPort, containerPort: GATEWAY_INNER_HTTP_PORT },
      { hostIp: s.address, hostPort: s.httpsPort, containerPort: GATEWAY_INNER_HTTPS_PORT },
    ],
    restart: true,
    ...(tunnels ? { binds: [{ source: tunnels, target: GATEWAY_TUNNEL_DIR }] } : {}),
  });
}

/** Whether the engine runs on this machine (a unix socket): then a folder of the home can be mounted into the gateway. */
function localEngine(address: string | undefined): boolean {
  return address === undefined || address.startsWith("unix://");
}

/**
 * Joins the networks the routes need, with their aliases (a network whose aliases changed, e.g. a
 * service added by a later `up`, is joined again), and leaves this home's env networks they no
 * longer need.
 */
async function joinNetworks(provider: RuntimeProvider, c: ContainerState, want: string[], aliases: Record<string, string[]>, homeId: string): Promise<void> {
  const have = Object.keys(c.ips);
  for (const n of want) {
    const names = aliases[n] ?? [];
    if (have.includes(n)) {
      const current = c.aliases?.[n];
      if (current === undefined || names.every((a) => current.includes(a))) continue;
      await provider.disconnectNetwork(n, c.id);
    }
    await provider.connectNetwork(n, c.id, names);
  }
  for (const n of have) {
    if (!want.includes(n) && n.startsWith(`cilo_${homeId}_`)) await provider.disconnectNetwork(n, c.id);
  }
}

function reloadCommand(): string[] {
  return ["caddy", "reload", "--config", CONFIG_PATH, "--address", "localhost:2019"];
}

/** Waits until Caddy's admin API takes the config (it answers a reload with the same config). */
async function waitReady(provider: RuntimeProvider, id: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = "";
  for (;;) {
    const info = await provider.inspectContainer(id);
    if (info && info.state !== "running" && info.state !== "created") {
      const logs = await provider.logs(id, 5).catch(() => "");
      throw gatewayError(`The gateway container stopped (${info.state}): ${lastLine(logs) || "no output"}`);
    }
    const r = await provider.exec(id, reloadCommand()).catch((e) => ({ code: -1, output: messageOf(e) }));
    if (r.code === 0) return;
    last = r.output;
    if (Date.now() > deadline) throw gatewayError(`The gateway did not take its config within ${READY_TIMEOUT_MS / 1000} s: ${lastLine(last)}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

function portTaken(s: GatewaySettings, engineMessage = ""): CiloError {
  const https = new RegExp(`:${s.httpsPort}\\b`).test(engineMessage) && !new RegExp(`:${s.httpPort}\\b`).test(engineMessage);
  const [what, port, option] = https ? ["HTTPS", s.httpsPort, "--gateway-https-port"] : ["HTTP", s.httpPort, "--gateway-http-port"];
  return new CiloError(
    "E_GATEWAY_PORT_TAKEN",
    `The gateway cannot publish ${what} on ${s.address}:${port}: another program holds that port; choose another with cilo init ${option} <port>`,
    { exitCode: ExitCode.prerequisite },
  );
}

function gatewayError(message: string, cause?: unknown): CiloError {
  return new CiloError("E_GATEWAY", message, {
    hint: "See docs/routing.md; CILO_GATEWAY=off runs cilo without the gateway",
    ...(cause !== undefined ? { cause } : {}),
  });
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split("\n")
      .filter((l) => l.trim() !== "")
      .pop() ?? ""
  ).slice(0, 300);
}
