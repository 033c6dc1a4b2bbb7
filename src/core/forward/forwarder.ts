import { CiloError, ExitCode, messageOf } from "../errors.ts";
import type { CiloContext } from "../context/context.ts";
import { gatewayDisabled, publishAddress } from "../gateway/settings.ts";
import { isImageReference } from "../image-ref.ts";
import { envLabels, LABEL_ENV, LABEL_FORWARD, LABEL_HOME, LABEL_MANAGED, LABEL_PROJECT } from "../labels.ts";
import type { ContainerState, RuntimeProvider } from "../runtime/provider.ts";
import type { EnvRecord, ForwardRecord, State } from "../state/schema.ts";
import { homeRef, withState } from "../state/store.ts";
import { parseForwardRange } from "../port-range.ts";
import { allocateForwards, DEFAULT_FORWARD_RANGE, holdsForwards, wantedForwards } from "./ports.ts";

/**
 * The image of the forward containers: busybox's `nc` (official image, ~2 MB), which users can
 * pull. `CILO_FORWARD_IMAGE` overrides it (the tests use the offline `cilo-test/busybox:latest`).
 */
export const DEFAULT_FORWARD_IMAGE = "busybox:1.36";
/** Which forward a container is (`<service>:<port>`) and what it was made with (image, address, host port). */
const LABEL_FORWARD_TARGET = "cilo.forward.target";
const LABEL_FORWARD_SETTINGS = "cilo.forward.settings";
/** The script each connection runs: it connects to the service by its name on the env network. */
const SCRIPT = "/cilo-forward.sh";
/**
 * Listens on the container port and runs the script for every connection, each in its own
 * process (so one forward carries many connections). `nc -lk … -e` is busybox's nc 1.10-style
 * applet (the official image); `nc -ll … -e` the small one (Debian's busybox-static).
 */
const LISTEN = `nc -lk -p "$1" -e ${SCRIPT} 2>/dev/null || exec nc -ll -p "$1" -e ${SCRIPT}`;
/** How often a forward takes another host port when another program holds the one it got. */
const PORT_TAKEN_ATTEMPTS = 10;
/** A compose service name: the only thing of the env that reaches the script. */
const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** `CILO_FORWARD_IMAGE`, else busybox. */
export function forwardImage(env: Readonly<Record<string, string | undefined>>): string {
  const fromEnv = env["CILO_FORWARD_IMAGE"];
  if (fromEnv === undefined || fromEnv === "") return DEFAULT_FORWARD_IMAGE;
  if (!isImageReference(fromEnv)) {
    throw new CiloError("E_USAGE", `CILO_FORWARD_IMAGE ${JSON.stringify(String(fromEnv).slice(0, 60))} is not an image reference such as busybox:1.36`, {
      exitCode: ExitCode.usage,
    });
  }
  return fromEnv;
}

/** The home's forward range (state `config.forward_ports`, else 15000-15999). */
/**
 * Gives `cur` (the env `key`, under the state lock) its TCP forwards on `address`: each kept when
 * free, never a port another env holds (running) or remembers (stopped), never one in `excluded`
 * (found taken by another program). Records them on `cur` and returns them. Local forward
 * containers and the ssh forwards of remote envs (tunnel.ts) share this rule and the range.
 */
export function assignForwards(state: State, key: string, cur: EnvRecord, address: string, excluded: ReadonlySet<number>): ForwardRecord[] {
  const taken: number[] = [];
  const remembered: number[] = [];
  for (const [k, r] of Object.entries(state.envs)) {
    if (k === key) continue;
    for (const f of r.forwards ?? []) (holdsForwards(r) ? taken : remembered).push(f.host_port);
  }
  const forwards = allocateForwards({
    range: forwardRange(state),
    wanted: wantedForwards(cur),
    address,
    ...(cur.forwards ? { previous: cur.forwards } : {}),
    taken,
    remembered,
    excluded,
  });
  if (forwards.length > 0) cur.forwards = forwards;
  else delete cur.forwards;
  return forwards;
}

export function forwardRange(state: State): { first: number; last: number } {
  return parseForwardRange(state.config.forward_ports ?? DEFAULT_FORWARD_RANGE) ?? parseForwardRange(DEFAULT_FORWARD_RANGE)!;
}

/** The forward container of one forward: `<env docker name>_fwd_<service>_<port>`. */
export function forwardContainerName(rec: Pick<EnvRecord, "docker_name">, f: Pick<ForwardRecord, "service" | "port">): string {
  return `${rec.docker_name}_fwd_${f.service}_${f.port}`;
}

/** This home's forward containers of an env. */
export async function forwardContainers(provider: RuntimeProvider, homeId: string, rec: Pick<EnvRecord, "project" | "name">): Promise<ContainerState[]> {
  return provider.listContainers({
    [LABEL_MANAGED]: "true",
    [LABEL_HOME]: homeId,
    [LABEL_FORWARD]: "true",
    [LABEL_PROJECT]: rec.project,
    [LABEL_ENV]: rec.name,
  });
}

/**
 * Gives a running env one forward container per TCP forward (docs/routing.md "TCP services"):
 * host ports allocated under the state lock (kept from the last up when free, never another
 * env's), each published on the engine's host address and connecting to the service by name on
 * the env network. A forward that already runs as wanted is left alone, so its connections live
 * on; others are replaced; a host port another program holds is swapped for the next free one.
 * Does nothing under `CILO_GATEWAY=off`. Returns the env's forwards.
 */
export async function syncForwards(ctx: CiloContext, key: string): Promise<ForwardRecord[]> {
  if (gatewayDisabled(ctx.env)) return [];
  const provider = await ctx.provider();
  const home = ctx.home;
  const image = forwardImage(ctx.env);
  const address = ctx.endpoint().publishAddress ?? publishAddress(provider.address);
  const excluded = new Set<number>();
  for (let attempt = 1; ; attempt++) {
    const plan = await withState(ctx, (state) => {
      const cur = state.envs[key];
      if (cur?.status !== "running") return undefined;
      const forwards = assignForwards(state, key, cur, address, excluded);
      return { rec: { ...cur }, forwards, home: homeRef(state, home) };
    });
    if (!plan) return [];
    const { rec, forwards } = plan;
    const byName = new Map(forwards.map((f) => [forwardContainerName(rec, f), f]));
    const existing = await forwardContainers(provider, plan.home.id, rec);
    const kept = new Set<string>();
    for (const c of existing) {
      const f = byName.get(c.name);
      if (f && c.state === "running" && c.labels[LABEL_FORWARD_SETTINGS] === settings(image, f)) kept.add(c.name);
      else await provider.removeContainer(c.id);
    }
    let refused: number | undefined;
    for (const [name, f] of byName) {
      if (kept.has(name)) continue;
      if (!(await startForward(provider, plan.home, rec, f, image))) {
        refused = f.host_port;
        break;
      }
    }
    if (refused === undefined) return forwards;
    excluded.add(refused);
    if (attempt >= PORT_TAKEN_ATTEMPTS) {
      throw new CiloError("E_FORWARD_RANGE_FULL", `Other programs hold the host ports ${[...excluded].join(", ")} of the TCP forward range`, {
        hint: "Choose another range with cilo init --forward-ports <first>-<last>",
      });
    }
  }
}

/** Removes an env's forward containers (before `down`/`destroy` removes its network; they hold no state). */
export async function removeForwards(ctx: CiloContext, homeId: string, rec: Pick<EnvRecord, "project" | "name">): Promise<void> {
  const provider = await ctx.provider();
  for (const c of await forwardContainers(provider, homeId, rec)) await provider.removeContainer(c.id);
}

function settings(image: string, f: ForwardRecord): string {
  return `${image} ${f.address}:${f.host_port}`;
}

/** Creates and starts one forward container; false when the engine cannot publish its host port. */
async function startForward(provider: RuntimeProvider, home: { id: string; path: string }, rec: EnvRecord, f: ForwardRecord, image: string): Promise<boolean> {
  if (!SERVICE_NAME.test(f.service) || !Number.isInteger(f.port) || f.port < 1 || f.port > 65535) {
    throw new CiloError(
      "E_STATE_CORRUPT",
      `The forward ${JSON.stringify(f.service.slice(0, 40))}:${f.port} of ${rec.project}/${rec.name} is not a service and port`,
    );
  }
  if (!(await provider.hasImage(image))) {
    try {
      await provider.pullImage(image);
    } catch (e) {
      throw new CiloError("E_GATEWAY", `The TCP forward image ${image} is not on the engine and could not be pulled (${messageOf(e).split("\n")[0]})`, {
        hint: "CILO_FORWARD_IMAGE names another image with busybox's nc; CILO_GATEWAY=off runs cilo without forwards",
        cause: e,
      });
    }
  }
  const id = await provider.createContainer({
    name: forwardContainerName(rec, f),
    image,
    cmd: ["sh", "-c", LISTEN, "cilo-forward", String(f.port)],
    labels: {
      ...envLabels(home, rec.project, rec.name),
      [LABEL_FORWARD]: "true",
      [LABEL_FORWARD_TARGET]: `${f.service}:${f.port}`,
      [LABEL_FORWARD_SETTINGS]: settings(image, f),
    },
    publish: [{ hostIp: f.address, hostPort: f.host_port, containerPort: f.port }],
    network: rec.docker_name,
    restart: true,
  });
  try {
    await provider.putFile(id, SCRIPT, `#!/bin/sh\nexec nc ${f.service} ${f.port}\n`, 0o755);
    await provider.startContainer(id);
    return true;
  } catch (e) {
    await provider.removeContainer(id).catch(() => {});
    if (e instanceof CiloError && e.code === "E_DOCKER_PORT_TAKEN") return false;
    throw e;
  }
}
