import { join, resolve } from "node:path";
import type { LayoutProblems } from "./facts.ts";
import type { ContainerState } from "../runtime/provider.ts";
import {
  gatewayContainerName,
  LABEL_ENV,
  LABEL_GATEWAY,
  LABEL_HOME,
  LABEL_HOME_PATH,
  LABEL_PROJECT,
  LABEL_SERVICE,
  LABEL_SHARED,
  legacyEnvDockerName,
} from "../labels.ts";
import { gatewayNeeded, gatewayRoutes } from "../gateway/render.ts";
import { forwardContainerName } from "../forward/forwarder.ts";
import { LOCK_STALE_MS } from "../fs/file-lock.ts";
import { mergeRuntime } from "../env/services.ts";
import { envKey, STATE_VERSION, type EnvRecord, type OperationMarker, type State } from "../state/schema.ts";
import { interruptedOperation, isLive } from "./env-facts.ts";
import type { DnsFact, ReconcileFacts } from "./facts.ts";
import type { Finding } from "./finding.ts";
import { finding } from "./findings/index.ts";

/** A staging folder younger than this may belong to a `cilo create --git` that is still cloning. */
export const STAGING_STALE_MS = 60 * 60_000;
/** A temp file whose writer is unknown is stray after this long (writes take milliseconds). */
export const TMP_STALE_MS = 60_000;

const WORKING_DIR = "com.docker.compose.project.working_dir";
const CONFIG_FILES = "com.docker.compose.project.config_files";

type Owner = "ours" | "foreign" | "unknown";

/**
 * What is inconsistent between the state, Docker, the files under `$CILO_HOME` and DNS. Pure: the
 * same facts give the same findings, in a stable order. Resources of shared instances
 * (`cilo.shared`) have their own lifecycle and are not judged here.
 */
export function diagnose(facts: ReconcileFacts): Finding[] {
  const out: Finding[] = [];
  if (facts.docker.kind === "unreachable") out.push(finding("docker-unreachable", { kind: "component", name: "docker" }, facts.docker.message, null));
  if (facts.composeMissing) out.push(finding("compose-missing", { kind: "component", name: "compose" }, facts.composeMissing, null));
  if (facts.dns?.missing) out.push(finding("dnsmasq-missing", { kind: "component", name: "dnsmasq" }, facts.dns.missing, null));
  out.push(...homeFiles(facts));
  const st = facts.state;
  switch (st.kind) {
    case "missing":
      out.push(finding("state-missing", STATE_FILE, st.message, null));
      return out;
    case "too-new":
      out.push(finding("state-too-new", STATE_FILE, st.message, null));
      return out;
    case "corrupt":
      out.push(
        finding(
          "state-corrupt",
          STATE_FILE,
          st.message,
          st.backup ? `restore the last good state from ${st.backup} (the corrupt file is kept beside it)` : null,
        ),
      );
      return out;
  }
  if (st.versionOnDisk < STATE_VERSION) {
    out.push(
      finding(
        "state-schema-old",
        STATE_FILE,
        `The state file has schema version ${st.versionOnDisk}; this cilo writes ${STATE_VERSION}`,
        `rewrite it in schema version ${STATE_VERSION}`,
      ),
    );
  }
  out.push(...layoutFindings(st.layout));
  const state = st.state;
  const workspaces = new Set(facts.workspaces);
  for (const rec of sortedEnvs(state)) out.push(...workspaceOutside(rec, facts));
  if (facts.docker.kind === "ok") {
    const owner = ownership(facts, workspaces, state.home_id);
    for (const rec of sortedEnvs(state)) if (!rec.host) out.push(...envFindings(rec, facts, owner.containersOf(rec), workspaces));
    out.push(...orphans(state, facts, owner));
  }
  // Envs on hosts, each judged against its host's engine (orphans there are not swept: docs/remote.md).
  for (const host of [...new Set(sortedEnvs(state).flatMap((e) => (e.host ? [e.host] : [])))].sort()) {
    const fact = facts.hostDocker?.[host];
    if (!fact || fact.kind === "unreachable") {
      const why = fact?.message ?? "not asked";
      out.push(finding("host-unreachable", { kind: "component", name: `host ${host}` }, `host ${host}: ${why}`, null));
      continue;
    }
    const owner = ownership({ ...facts, docker: fact }, workspaces, state.home_id);
    for (const rec of sortedEnvs(state)) if (rec.host === host) out.push(...envFindings(rec, { ...facts, docker: fact }, owner.containersOf(rec), workspaces));
    for (const rec of sortedEnvs(state)) {
      const key = envKey(rec.project, rec.name);
      if (rec.host !== host || !facts.tunnelsDown?.includes(key)) continue;
      out.push(
        finding(
          "tunnel-down",
          { kind: "env", project: rec.project, env: rec.name },
          `The ssh forward of ${key} to host ${host} is not running (or leads to old addresses): its names and TCP forwards do not answer here`,
          "start it again with the env's addresses",
        ),
      );
    }
    if (facts.gatewayEnabled && facts.remoteGatewayHosts?.includes(host)) out.push(...remoteGatewayFindings(state, host, fact));
  }
  for (const key of facts.workspaces) {
    if (state.envs[key]) continue;
    const slash = key.indexOf("/");
    const target = { kind: "env", project: key.slice(0, slash), env: key.slice(slash + 1) } as const;
    out.push(
      finding(
        "workspace-orphaned",
        target,
        `The workspace folder of ${key} belongs to no env`,
        "delete the folder (refused when it holds uncommitted git changes, unless --force)",
      ),
    );
  }
  out.push(...sharedFindings(state, facts));
  if (facts.dns) out.push(...dnsFindings(facts.dns, state));
  out.push(...gatewayFindings(state, facts));
  out.push(...forwardFindings(state, facts));
  return out;
}

/**
 * The running envs of a `tcp://` host reached through its own gateway (docs/remote.md "Names of envs
 * on a tcp:// host"): that host's gateway runs while it has a route to proxy, and each TCP forward
 * of the env (its state record) has a running forward container on the host's engine.
 */
function remoteGatewayFindings(state: State, host: string, fact: Extract<ReconcileFacts["docker"], { kind: "ok" }>): Finding[] {
  let needed: boolean;
  try {
    needed = gatewayNeeded(gatewayRoutes(state, { host }));
  } catch {
    return [];
  }
  const ours = fact.containers.filter((c) => c.labels[LABEL_HOME] === state.home_id);
  const name = gatewayContainerName(state.home_id, host);
  const gateway = ours.filter((c) => c.labels[LABEL_GATEWAY] === "true" && c.name === name);
  const gatewayDown = needed && !gateway.some((c) => c.state === "running");
  const running = new Set(ours.filter((c) => c.state === "running").map((c) => c.name));
  const out: Finding[] = [];
  for (const rec of sortedEnvs(state)) {
    if (rec.host !== host || rec.status !== "running") continue;
    const gone = (rec.forwards ?? []).filter((f) => !running.has(forwardContainerName(rec, f)));
    const routed = rec.services.some((s) => s.ip && !s.shared);
    if (!(gatewayDown && routed) && gone.length === 0) continue;
    const what = [
      ...(gatewayDown && routed ? [`the gateway ${name} on host ${host} ${gateway.length > 0 ? `is ${gateway[0]!.state}` : "does not exist"}`] : []),
      ...(gone.length > 0
        ? [
            `the TCP forward${gone.length > 1 ? "s" : ""} ${gone.map((f) => `${f.address}:${f.host_port} -> ${f.service}:${f.port}`).join(", ")} ${gone.length > 1 ? "are" : "is"} not running there`,
          ]
        : []),
    ];
    const key = envKey(rec.project, rec.name);
    out.push(
      finding(
        "remote-gateway-down",
        { kind: "env", project: rec.project, env: rec.name },
        `For ${key}, ${what.join(", and ")}: its names and TCP forwards do not answer here`,
        `recreate them on host ${host}'s engine as cilo up does`,
      ),
    );
  }
  return out;
}

/** A running env's TCP forwards (its state record) each with a running forward container. */
function forwardFindings(state: State, facts: ReconcileFacts): Finding[] {
  if (facts.docker.kind !== "ok" || !facts.gatewayEnabled) return [];
  const running = new Set(facts.docker.containers.filter((c) => c.state === "running" && c.labels[LABEL_HOME] === state.home_id).map((c) => c.name));
  const out: Finding[] = [];
  for (const rec of sortedEnvs(state)) {
    // An env on a host has no forward containers: its ssh forward is judged with its host (tunnel-down).
    if (rec.status !== "running" || rec.host) continue;
    const gone = (rec.forwards ?? []).filter((f) => !running.has(forwardContainerName(rec, f)));
    if (gone.length === 0) continue;
    const list = gone.map((f) => `${f.address}:${f.host_port} -> ${f.service}:${f.port}`).join(", ");
    out.push(
      finding(
        "forward-missing",
        { kind: "env", project: rec.project, env: rec.name },
        `The TCP forward${gone.length > 1 ? "s" : ""} ${list} of ${envKey(rec.project, rec.name)} ${gone.length > 1 ? "are" : "is"} not running`,
        "recreate the env's forwards on the same host ports",
      ),
    );
  }
  return out;
}

/** This home's gateway: running while some env has a route to proxy, absent otherwise. */
function gatewayFindings(state: State, facts: ReconcileFacts): Finding[] {
  if (facts.docker.kind !== "ok" || !facts.gatewayEnabled) return [];
  let needed: boolean;
  try {
    needed = gatewayNeeded(gatewayRoutes(state));
  } catch {
    return [];
  }
  const name = gatewayContainerName(state.home_id);
  // By name too: on an engine that is also a host's, that host's gateway is there beside it.
  const mine = facts.docker.containers.filter((c) => c.labels[LABEL_GATEWAY] === "true" && c.labels[LABEL_HOME] === state.home_id && c.name === name);
  const target = { kind: "component", name: "gateway" } as const;
  if (needed && !mine.some((c) => c.state === "running")) {
    const what = mine.length > 0 ? `is ${mine[0]!.state}` : "does not exist";
    return [
      finding(
        "gateway-missing",
        target,
        `The gateway ${name} ${what} while envs run, so their .localhost names do not answer`,
        "recreate it with the state's routes",
      ),
    ];
  }
  if (!needed && mine.length > 0) return [finding("gateway-unneeded", target, `The gateway ${name} exists though no env runs`, "remove it")];
  return [];
}

/**
 * Shared instances (SPEC §8): users that no longer exist, services idle past the grace period
 * (their collector did not run), shared services missing while in use, and shared resources of
 * this home's projects that state no longer knows.
 */
function sharedFindings(state: State, facts: ReconcileFacts): Finding[] {
  const out: Finding[] = [];
  const ownHome = (labels: Record<string, string>) => labels[LABEL_HOME] === undefined || labels[LABEL_HOME] === state.home_id;
  const containers = facts.docker.kind === "ok" ? facts.docker.containers : [];
  for (const inst of Object.values(state.shared ?? {}).sort((a, b) => (a.project < b.project ? -1 : 1))) {
    for (const [name, svc] of Object.entries(inst.services).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const service = { kind: "shared-service", project: inst.project, service: name } as const;
      for (const user of svc.users.filter((u) => !state.envs[envKey(inst.project, u)])) {
        out.push(
          finding(
            "shared-user-missing",
            { ...service, kind: "shared-user", user },
            `The shared service ${inst.project}/${name} lists ${user} as a user, but that env no longer exists`,
            `forget ${user} as a user (the service stops after the grace period if none is left)`,
          ),
        );
      }
      if (svc.users.length === 0 && svc.idle_since && Date.parse(svc.idle_since) + facts.sharedGraceMs < facts.now) {
        out.push(
          finding(
            "shared-idle-expired",
            service,
            `The shared service ${inst.project}/${name} has had no user since ${svc.idle_since}, past its grace period`,
            "stop it (and remove the shared instance when nothing else is shared)",
          ),
        );
      }
      const running = containers.some(
        (c) =>
          c.labels[LABEL_SHARED] === "true" &&
          ownHome(c.labels) &&
          c.labels[LABEL_PROJECT] === inst.project &&
          c.labels[LABEL_SERVICE] === name &&
          c.state === "running",
      );
      if (facts.docker.kind === "ok" && svc.users.length > 0 && !running) {
        out.push(
          finding("shared-service-missing", service, `The shared service ${inst.project}/${name} is used by ${svc.users.join(", ")} but does not run`, null),
        );
      }
    }
  }
  if (facts.docker.kind === "ok") {
    const mine = (labels: Record<string, string>) => {
      const p = labels[LABEL_PROJECT];
      return labels[LABEL_SHARED] === "true" && ownHome(labels) && p !== undefined && facts.sharedProjects.includes(p) && !state.shared?.[p];
    };
    const resources = [
      ...facts.docker.containers.map((c) => ({ resource: "container" as const, id: c.id, name: c.name, labels: c.labels })),
      ...facts.docker.networks.map((n) => ({ resource: "network" as const, id: n.id, name: n.name, labels: n.labels })),
      ...facts.docker.volumes.map((v) => ({ resource: "volume" as const, id: v.name, name: v.name, labels: v.labels })),
    ];
    for (const r of resources.filter((x) => mine(x.labels))) {
      const target = { kind: "docker", resource: r.resource, id: r.id, name: r.name } as const;
      out.push(finding("shared-orphaned", target, `The shared ${r.resource} ${r.name} belongs to no shared instance in state`, `remove the ${r.resource}`));
    }
  }
  return out;
}

const STATE_FILE = { kind: "component", name: "state.json" } as const;

function homeFiles(facts: ReconcileFacts): Finding[] {
  const out: Finding[] = [];
  for (const lock of facts.locks) {
    if (lock.ageMs < LOCK_STALE_MS) continue;
    out.push(
      finding(
        "lock-stale",
        { kind: "path", path: lock.path },
        `The lock ${lock.path} has not been refreshed for ${Math.round(lock.ageMs / 1000)} s: its holder is gone`,
        "remove the lock",
      ),
    );
  }
  for (const tmp of facts.tmpFiles) {
    const stray = tmp.pid !== undefined ? !facts.alive(tmp.pid) : tmp.ageMs > TMP_STALE_MS;
    if (!stray) continue;
    out.push(finding("tmp-file-stray", { kind: "path", path: tmp.path }, `${tmp.path} is the temp file of a write that never finished`, "delete it"));
  }
  for (const s of facts.staging) {
    if (s.ageMs < STAGING_STALE_MS) continue;
    out.push(finding("staging-leftover", { kind: "path", path: s.path }, `${s.path} is left over from a cilo create --git that did not finish`, "delete it"));
  }
  for (const s of facts.snapshotTemps ?? []) {
    const gone = s.pid !== undefined ? !facts.alive(s.pid) : s.ageMs > STAGING_STALE_MS;
    if (!gone) continue;
    out.push(
      finding("snapshot-leftover", { kind: "path", path: s.path }, `${s.path} is left over from a snapshot that did not finish (never listed)`, "delete it"),
    );
  }
  return out;
}

function envFindings(rec: EnvRecord, facts: ReconcileFacts, containers: ContainerState[], workspaces: Set<string>): Finding[] {
  const key = envKey(rec.project, rec.name);
  const target = envTarget(rec);
  const op = interruptedOperation(rec);
  if (op) {
    if (facts.alive(op.pid, Date.parse(op.started_at))) return [];
    const busy = facts.composeBusy.includes(rec.docker_name);
    return [
      finding(
        "operation-interrupted",
        target,
        `${op.kind} of ${key} was interrupted (pid ${op.pid} is gone)${busy ? "; its compose process still runs" : ""}`,
        INTERRUPTED_FIX[op.kind],
      ),
    ];
  }
  if (rec.owner_pid !== undefined) {
    if (!facts.alive(rec.owner_pid, Date.parse(rec.created_at))) {
      return [finding("env-owner-gone", target, `${key} is a throwaway env whose owner process ${rec.owner_pid} is gone`, "destroy it")];
    }
    if (!facts.watchedOwners.includes(rec.owner_pid)) {
      return [
        finding(
          "reaper-missing",
          target,
          `${key} must go when process ${rec.owner_pid} ends, but no reaper watches that process`,
          `start a reaper for process ${rec.owner_pid}`,
        ),
      ];
    }
  }
  if (!workspaces.has(key)) {
    const empty = containers.length === 0;
    return [
      finding(
        "env-workspace-missing",
        target,
        `The workspace ${rec.workspace} of ${key} is gone, so it cannot be started`,
        empty ? "destroy the env (nothing of it runs)" : null,
      ),
    ];
  }
  return runtimeFindings(rec, key, containers);
}

/**
 * An env whose recorded workspace is not its own folder `$CILO_HOME/envs/<project>/<env>` (a
 * hand-edited or tampered state). Never fixed automatically: destroy leaves such a path alone.
 */
function workspaceOutside(rec: EnvRecord, facts: ReconcileFacts): Finding[] {
  const own = facts.envsRoots.map((root) => join(root, rec.project, rec.name));
  if (typeof rec.workspace === "string" && rec.workspace !== "" && own.includes(resolve(rec.workspace))) return [];
  const key = envKey(rec.project, rec.name);
  return [
    finding(
      "env-workspace-outside",
      envTarget(rec),
      `The recorded workspace ${JSON.stringify(rec.workspace)} of ${key} is not its folder ${own[0]}; cilo never deletes it`,
      null,
    ),
  ];
}

const INTERRUPTED_FIX: Record<OperationMarker["kind"], string> = {
  create: "roll the create back: remove what it made and the env's record",
  destroy: "finish the destroy",
  up: "record the env as running if every service runs, else as failed",
  down: "finish stopping it (cilo down)",
};

function envTarget(rec: EnvRecord) {
  return { kind: "env", project: rec.project, env: rec.name } as const;
}

function runtimeFindings(rec: EnvRecord, key: string, containers: ContainerState[]): Finding[] {
  const target = envTarget(rec);
  const byService = (name: string) => containers.filter((c) => c.labels[LABEL_SERVICE] === name);
  if (rec.status === "running") {
    // A service the project's shared instance provides has no container of the env: sharedFindings judges it.
    const own = rec.services.filter((s) => !s.shared && !(rec.shared_services ?? []).includes(s.name));
    const missing = own.filter((s) => byService(s.name).length === 0).map((s) => s.name);
    const exited = own.filter((s) => byService(s.name).length > 0 && !byService(s.name).some(isLive)).map((s) => `${s.name} (${byService(s.name)[0]!.state})`);
    const out: Finding[] = [];
    if (missing.length > 0) {
      out.push(
        finding(
          "env-service-missing",
          target,
          `${key} is running but ${plural(missing, "service")} ${missing.map((s) => `"${s}"`).join(", ")} ${missing.length === 1 ? "has" : "have"} no container`,
          `start the env again (cilo up ${key})`,
        ),
      );
    }
    if (exited.length > 0) {
      out.push(
        finding(
          "env-service-exited",
          target,
          `${key} is running but ${plural(exited, "service")} ${exited.join(", ")} stopped`,
          `start the env again (cilo up ${key})`,
        ),
      );
    }
    if (out.length > 0) return out;
    const merged = mergeRuntime(own, containers, rec.docker_name);
    const changed = merged.filter((m) => rec.services.find((s) => s.name === m.name)?.ip !== m.ip).map((m) => m.name);
    if (changed.length === 0) return [];
    return [
      finding(
        "env-ip-stale",
        target,
        `The recorded address of ${plural(changed, "service")} ${changed.join(", ")} of ${key} is not the one Docker reports`,
        "record the addresses Docker reports and update DNS",
      ),
    ];
  }
  if (rec.status === "failed") {
    return [finding("env-failed", target, `${key} failed: ${rec.error ?? "no reason recorded"}`, null)];
  }
  const allRun = rec.services.length > 0 && rec.services.every((s) => byService(s.name).some((c) => c.state === "running"));
  if ((rec.status === "stopped" || rec.status === "created") && allRun) {
    return [
      finding(
        "env-status-stale",
        target,
        `${key} is recorded as ${rec.status} but every service of it runs`,
        "record it as running with the addresses Docker reports",
      ),
    ];
  }
  return [];
}

interface Ownership {
  containersOf(rec: EnvRecord): ContainerState[];
  of(kind: "container" | "network" | "volume", labels: Record<string, string>): Owner;
}

/**
 * Which `CILO_HOME` a cilo-labelled resource belongs to. Several homes may share one engine (a
 * user's and root's, or tests'): resources carry their home's id (`cilo.home`). Those made before
 * homes had ids do not: a container carries the compose project folder, which lies in its home's
 * `envs/`; a network or volume belongs with the containers of the same env, or with a workspace
 * folder of that env in this home.
 */
function ownership(facts: ReconcileFacts, workspaces: Set<string>, homeId: string): Ownership {
  const containers = facts.docker.kind === "ok" ? facts.docker.containers : [];
  const containerOwner = (labels: Record<string, string>): Owner => {
    if (labels[LABEL_HOME] !== undefined) return labels[LABEL_HOME] === homeId ? "ours" : "foreign";
    const paths = [labels[WORKING_DIR], ...(labels[CONFIG_FILES]?.split(",") ?? [])].filter((p): p is string => !!p);
    if (paths.length === 0) return "unknown";
    return paths.some((p) => facts.envsRoots.some((root) => p === root || p.startsWith(`${root}/`))) ? "ours" : "foreign";
  };
  const byEnv = new Map<string, Owner[]>();
  for (const c of containers) {
    const key = labelKey(c.labels);
    if (key) byEnv.set(key, [...(byEnv.get(key) ?? []), containerOwner(c.labels)]);
  }
  return {
    containersOf: (rec) =>
      containers.filter((c) => {
        if (labelKey(c.labels) !== envKey(rec.project, rec.name)) return false;
        if (c.labels[LABEL_HOME] !== undefined) return c.labels[LABEL_HOME] === homeId;
        return rec.docker_name === legacyEnvDockerName(rec.project, rec.name) && containerOwner(c.labels) !== "foreign";
      }),
    of: (kind, labels) => {
      if (labels[LABEL_HOME] !== undefined) return labels[LABEL_HOME] === homeId ? "ours" : "foreign";
      if (kind === "container") {
        const own = containerOwner(labels);
        if (own !== "unknown") return own;
      }
      const key = labelKey(labels);
      if (!key) return "unknown";
      const seen = byEnv.get(key) ?? [];
      if (seen.includes("ours") || workspaces.has(key)) return "ours";
      return seen.includes("foreign") ? "foreign" : "unknown";
    },
  };
}

function orphans(state: State, facts: ReconcileFacts, owner: Ownership): Finding[] {
  if (facts.docker.kind !== "ok") return [];
  const out: Finding[] = [];
  const judge = (kind: "container" | "network" | "volume", name: string, id: string, labels: Record<string, string>) => {
    const key = labelKey(labels);
    // An unlabelled shared resource predates home ids: sharedFindings judges it by project folder.
    if (labels[LABEL_SHARED] === "true" && labels[LABEL_HOME] === undefined) return;
    // This home's gateway has its own findings (gatewayFindings).
    if (labels[LABEL_GATEWAY] === "true" && labels[LABEL_HOME] === state.home_id) return;
    const whose = owner.of(kind, labels);
    if (whose === "ours" && ((key && state.envs[key]) || labels[LABEL_SHARED] === "true")) return;
    const target = { kind: "docker", resource: kind, id, name } as const;
    const what = key
      ? `env ${key}`
      : labels[LABEL_SHARED] === "true"
        ? `the shared instance of ${labels[LABEL_PROJECT]}`
        : "no env (it lacks the cilo.project/cilo.env labels)";
    if (whose !== "ours") {
      // Another home's, or nobody's: left to a home that still exists, else named, never removed silently.
      const home = homeOfResource(kind, labels);
      if (home && facts.liveHomes.includes(home)) return;
      const whom = labels[LABEL_HOME]
        ? `CILO_HOME ${labels[LABEL_HOME]}${home ? ` at ${home}` : ""}, which no longer exists`
        : "no CILO_HOME that still exists";
      out.push(
        finding(
          "resource-foreign",
          target,
          `The ${kind} ${name} (for ${what}) belongs to ${whom}; remove it with: cilo doctor --fix --foreign`,
          `remove the ${kind} (only with --foreign)`,
        ),
      );
      return;
    }
    if ((key && state.envs[key]) || labels[LABEL_SHARED] === "true") return;
    out.push(finding(ORPHANED[kind], target, `The ${kind} ${name} is labelled for ${what}, which does not exist`, `remove the ${kind}`));
  };
  const byName = <T extends { name: string }>(list: T[]) => [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const c of byName(facts.docker.containers)) judge("container", c.name, c.id, c.labels);
  for (const n of byName(facts.docker.networks)) judge("network", n.name, n.id, n.labels);
  for (const v of byName(facts.docker.volumes)) judge("volume", v.name, v.name, v.labels);
  return out;
}

const ORPHANED = { container: "container-orphaned", network: "network-orphaned", volume: "volume-orphaned" } as const;

function dnsFindings(dns: DnsFact, state: State): Finding[] {
  if (dns.missing) return [];
  const out: Finding[] = [];
  const anyRunning = Object.values(state.envs).some((e) => e.status === "running");
  if (dns.running && !dns.answering) {
    out.push(finding("dns-not-answering", DNSMASQ, `cilo's dnsmasq runs but does not answer on 127.0.0.1:${dns.port}`, "restart it"));
  } else if (!dns.running && anyRunning && dns.names !== 0) {
    out.push(finding("dns-not-running", DNSMASQ, `cilo's dnsmasq is not running, so the names of running envs do not resolve`, "start it"));
  } else if (dns.running && !dns.inSync) {
    out.push(
      finding("dns-out-of-sync", DNSMASQ, "What cilo's dnsmasq serves is not what the state says", "render the DNS files from the state again and apply them"),
    );
  }
  if (dns.strays && dns.strays.length > 0) {
    const which = dns.strays.map((p) => `pid ${p.pid} on ${p.config}`).join(", ");
    const one = dns.strays.length === 1;
    out.push(
      finding(
        "dns-stray",
        DNSMASQ,
        `${one ? "A dnsmasq" : `${dns.strays.length} dnsmasq processes`} of this home ${one ? "runs" : "run"} that its dns folder does not record (${which})`,
        `stop ${one ? "it" : "them"}`,
      ),
    );
  }
  if (dns.resolver !== "set-up") {
    const suffixes = dns.suffixes.map((s) => `.${s}`).join(" ");
    const message =
      dns.resolver === "unsupported"
        ? `No supported system resolver was found; ${suffixes} names resolve only by asking 127.0.0.1:${dns.port} (see cilo dns setup --print-manual)`
        : `The system resolver does not send ${suffixes} to cilo; run sudo cilo dns setup, or ask 127.0.0.1:${dns.port} directly`;
    out.push(finding("resolver-not-set-up", { kind: "component", name: "resolver" }, message, null));
  }
  return out;
}

const DNSMASQ = { kind: "component", name: "dnsmasq" } as const;

/** The home folder a resource names: its `cilo.home.path`, or an unlabelled container's compose folder's home. */
function homeOfResource(kind: "container" | "network" | "volume", labels: Record<string, string>): string | undefined {
  if (labels[LABEL_HOME_PATH]) return labels[LABEL_HOME_PATH];
  const dir = kind === "container" ? labels[WORKING_DIR] : undefined;
  const at = dir?.lastIndexOf("/envs/") ?? -1;
  return dir && at > 0 ? dir.slice(0, at) : undefined;
}

function labelKey(labels: Record<string, string>): string | undefined {
  const p = labels[LABEL_PROJECT];
  const e = labels[LABEL_ENV];
  return p && e ? envKey(p, e) : undefined;
}

function sortedEnvs(state: State): EnvRecord[] {
  return Object.keys(state.envs)
    .sort()
    .map((k) => state.envs[k]!);
}

function plural(items: string[], word: string): string {
  return items.length === 1 ? word : `${word}s`;
}

/** The per-env record files against the index (docs/state.md, "Layout"). */
function layoutFindings(layout: LayoutProblems | undefined): Finding[] {
  if (!layout) return [];
  const out: Finding[] = [];
  const env = (key: string) => ({ kind: "env" as const, project: key.slice(0, key.indexOf("/")), env: key.slice(key.indexOf("/") + 1) });
  for (const b of layout.badRecords)
    out.push(finding("state-record-corrupt", env(b.key), b.message, `restore ${b.file} from its backup, else move it aside and forget the env`));
  for (const key of layout.missing)
    out.push(finding("state-index-mismatch", env(key), `The state index lists ${key} but its record file is missing`, "drop the entry from the index"));
  for (const key of layout.stale)
    out.push(
      finding(
        "state-index-mismatch",
        env(key),
        `The state index entry of ${key} differs from its record (a write cut short)`,
        "rewrite the entry from the record",
      ),
    );
  for (const o of layout.orphans)
    out.push(
      finding(
        "state-record-orphan",
        { kind: "path", path: o.file },
        `${o.file} is the record of no env in the index (a create or destroy cut short)`,
        "delete it",
      ),
    );
  return out;
}
