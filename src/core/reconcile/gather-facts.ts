import { effectiveRouting } from "../gateway/routing.ts";
import { gatewayDisabled } from "../gateway/settings.ts";
import { sharedGraceMs } from "../shared/shared-instance.ts";
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { dnsFiles, dnsmasqOfHome, dnsStatus, findDnsmasq } from "../dns/dnsmasq.ts";
import { dnsEnvsFromState, dnsOptionsFromState, gatewayDnsAddressFor } from "../dns/from-state.ts";
import { dnsAnswers } from "../dns/probe.ts";
import { setupResolver } from "../dns/setup.ts";
import { watchedOwners, reapersDir } from "../env/reaper.ts";
import type { CiloContext } from "../context/context.ts";
import { isCiloError, messageOf } from "../errors.ts";
import { LABEL_HOME, LABEL_HOME_PATH, LABEL_MANAGED } from "../labels.ts";
import { derivedHomeId } from "../state/migrations.ts";
import { dnsDir, envsDir, snapshotsDir, statePath } from "../paths.ts";
import { SNAPSHOT_TMP_NAME } from "../snapshot/snapshot-store.ts";
import type { State } from "../state/schema.ts";
import { recordsDir } from "../state/layout.ts";
import { backupPath, inspectLayout, parseState } from "../state/store.ts";
import type { AgedPath, Check, DnsFact, DockerFact, ReconcileFacts, StateFact } from "./facts.ts";
import { composeProcesses, isProcessAlive } from "../proc/processes.ts";
import { envContext } from "../env/env-context.ts";
import { reasonOf } from "../host/hosts.ts";
import { remoteHost } from "../host/hosts.ts";
import { tunnelStale } from "../forward/tunnel.ts";
import { hostReachesFor } from "../gateway/host-reach.ts";

/**
 * Reads what reconciliation judges: Docker's cilo-labelled containers, networks and volumes, the
 * compose CLI, the files under `$CILO_HOME`, then the state, then DNS. Never throws for a missing
 * or broken part: that is a fact too.
 */
export async function gatherFacts(ctx: CiloContext): Promise<ReconcileFacts> {
  const home = ctx.home;
  const checks: Check[] = [];
  const docker = await dockerFact(ctx, checks);
  const composeMissing = await composeCheck(ctx, checks);
  const composeBusy = [...composeProcesses().keys()];
  const envs = envsDir(home);
  const workspaces = workspaceKeys(envs);
  const staging = aged(join(envs, ".staging"), () => true);
  const dirs = [home, dnsDir(home), join(dnsDir(home), "hosts"), reapersDir(home), ...listDirs(recordsDir(home)).map((p) => join(recordsDir(home), p))];
  const tmpFiles = dirs.flatMap((d) => aged(d, (n) => TMP_NAME.test(n)).map((f) => withWriterPid(f)));
  const locks = dirs.flatMap((d) => aged(d, (n) => n.endsWith(".lock")));
  const snapshotTemps = aged(snapshotsDir(home), (n) => SNAPSHOT_TMP_NAME.test(n)).map((f) => {
    const pid = Number(SNAPSHOT_TMP_NAME.exec(basename(f.path))?.[1]);
    return Number.isInteger(pid) && pid > 0 ? { ...f, pid } : f;
  });
  const state = stateFact(home);
  const liveHomes = docker.kind === "ok" && state.kind === "ok" ? liveOtherHomes(docker, state.state.home_id, home) : [];
  checks.push(stateCheck(home, state));
  const hostDocker = state.kind === "ok" ? await hostFacts(ctx, state.state, checks) : undefined;
  const dns = state.kind === "ok" ? await dnsFact(ctx, state.state, checks) : undefined;
  if (state.kind === "ok") {
    const routing = effectiveRouting(state.state.config);
    checks.push({ name: "Routing", ok: true, detail: `${routing.mode}: ${routing.why}` });
  }
  return {
    home,
    envsRoots: [...new Set([envs, realPath(envs)])],
    checks,
    state,
    docker,
    ...(hostDocker ? { hostDocker } : {}),
    ...(composeMissing ? { composeMissing } : {}),
    ...(dns ? { dns } : {}),
    workspaces,
    staging,
    snapshotTemps,
    tmpFiles,
    locks,
    watchedOwners: watchedOwners(home),
    sharedProjects: listDirs(join(home, "shared")),
    sharedGraceMs: sharedGraceMs(ctx.env),
    now: ctx.clock.now(),
    composeBusy,
    gatewayEnabled: !gatewayDisabled(ctx.env),
    ...(state.kind === "ok" && !gatewayDisabled(ctx.env) ? { tunnelsDown: tunnelsDown(ctx, state.state) } : {}),
    ...(state.kind === "ok" && !gatewayDisabled(ctx.env) ? { remoteGatewayHosts: remoteGatewayHosts(ctx, state.state) } : {}),
    liveHomes,
    alive: (pid, startedBefore) => isProcessAlive(pid, startedBefore !== undefined && Number.isFinite(startedBefore) ? { startedBefore } : {}),
  };
}

/**
 * The folders of other homes named by Docker resources (see `ReconcileFacts.liveHomes`) that
 * still hold that home's state.
 */
function liveOtherHomes(docker: Extract<DockerFact, { kind: "ok" }>, homeId: string, home: string): string[] {
  const named = new Map<string, string | undefined>();
  for (const r of [...docker.containers, ...docker.networks, ...docker.volumes]) {
    const id = r.labels[LABEL_HOME];
    if (id !== undefined && id !== homeId && r.labels[LABEL_HOME_PATH]) named.set(r.labels[LABEL_HOME_PATH]!, id);
  }
  for (const c of docker.containers) {
    const dir = c.labels[LABEL_HOME] === undefined ? c.labels["com.docker.compose.project.working_dir"] : undefined;
    const at = dir?.lastIndexOf("/envs/") ?? -1;
    if (dir && at > 0 && !named.has(dir.slice(0, at))) named.set(dir.slice(0, at), undefined);
  }
  const mine = [home, realPath(home)];
  return [...named]
    .filter(([path, id]) => {
      const there = mine.includes(path) ? undefined : homeIdAt(path);
      return there !== undefined && (id === undefined || there === id);
    })
    .map(([path]) => path)
    .sort();
}

/** The id of the home at `path`, undefined when no readable state is there. */
function homeIdAt(path: string): string | undefined {
  try {
    const doc = JSON.parse(readFileSync(statePath(path), "utf8")) as { home_id?: unknown };
    return typeof doc.home_id === "string" ? doc.home_id : derivedHomeId(path);
  } catch {
    return undefined;
  }
}

/** Temp files of `writeFileAtomic` (`.<name>.<pid>.<time>.<n>.tmp`) and of the state backup (`state.json.bak.<pid>.tmp`). */
const TMP_NAME = /^(\..+\.(\d+)\.\d+\.\d+|state\.json\.bak\.(\d+))\.tmp$/;

function withWriterPid(f: AgedPath): AgedPath & { pid?: number } {
  const m = TMP_NAME.exec(f.path.slice(f.path.lastIndexOf("/") + 1));
  const pid = Number(m?.[2] ?? m?.[3]);
  return Number.isInteger(pid) && pid > 0 ? { ...f, pid } : f;
}

async function dockerFact(ctx: CiloContext, checks: Check[]): Promise<DockerFact> {
  try {
    const provider = await ctx.provider();
    const info = await provider.ping();
    const labels = { [LABEL_MANAGED]: "true" };
    const [containers, networks, volumes] = await Promise.all([provider.listContainers(labels), provider.listNetworks(labels), provider.listVolumes(labels)]);
    const at = provider.address ? ` at ${provider.address}` : "";
    checks.push({ name: "Docker engine", ok: true, detail: `${info.engine === "podman" ? "Podman " : ""}${info.version} (API ${info.apiVersion})${at}` });
    return { kind: "ok", containers, networks, volumes };
  } catch (e) {
    checks.push({ name: "Docker engine", ok: false, detail: messageOf(e) });
    return { kind: "unreachable", message: messageOf(e) };
  }
}

/** Running envs on hosts whose ssh forward does not run with the arguments their state gives. */
function tunnelsDown(ctx: CiloContext, state: State): string[] {
  const out: string[] = [];
  for (const [key, rec] of Object.entries(state.envs).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!rec.host || rec.status !== "running") continue;
    try {
      const host = remoteHost(ctx, state, rec.host);
      if (host.ssh && tunnelStale(ctx.home, host.address, rec)) out.push(key);
    } catch {
      // a host without SSH or a record that does not render: judged elsewhere
    }
  }
  return out;
}

/** The hosts of envs that are reached through a gateway on the host's own engine (`tcp://`). */
function remoteGatewayHosts(ctx: CiloContext, state: State): string[] {
  if (!state.hosts) return [];
  const reaches = hostReachesFor(ctx, state);
  return [...reaches].flatMap(([name, reach]) => (reach.via === "remote-gateway" ? [name] : [])).sort();
}

/** The engine of each host that envs run on, read like this machine's (a check line each). */
async function hostFacts(ctx: CiloContext, state: State, checks: Check[]): Promise<Record<string, DockerFact> | undefined> {
  const hosts = [...new Set(Object.values(state.envs).flatMap((e) => (e.host ? [e.host] : [])))].sort();
  if (hosts.length === 0) return undefined;
  const out: Record<string, DockerFact> = {};
  await Promise.all(
    hosts.map(async (name) => {
      const own: Check[] = [];
      let fact: DockerFact;
      try {
        const hctx = envContext(ctx, { host: name });
        fact = await dockerFact(hctx, own);
        if (fact.kind === "unreachable") fact = { kind: "unreachable", message: `engine failed: ${reasonOf(new Error(fact.message))}` };
      } catch (e) {
        fact = { kind: "unreachable", message: reasonOf(e) };
      }
      out[name] = fact;
      checks.push({ name: `Host ${name}`, ok: fact.kind === "ok", detail: fact.kind === "ok" ? (own[0]?.detail ?? "answers") : fact.message });
    }),
  );
  return out;
}

async function composeCheck(ctx: CiloContext, checks: Check[]): Promise<string | undefined> {
  try {
    const cli = await ctx.compose();
    checks.push({ name: "Compose CLI", ok: true, detail: `${cli.command.join(" ")} ${cli.version}` });
    return undefined;
  } catch (e) {
    checks.push({ name: "Compose CLI", ok: false, detail: messageOf(e) });
    return messageOf(e);
  }
}

function stateFact(home: string): StateFact {
  const file = statePath(home);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e: any) {
    return {
      kind: "missing",
      message: e?.code === "ENOENT" ? `cilo is not initialised: ${file} does not exist (run cilo init)` : `Cannot read ${file}: ${messageOf(e)}`,
    };
  }
  try {
    const { state, ...layout } = inspectLayout(home, text);
    const version = (JSON.parse(text) as { version?: unknown }).version;
    const problems = layout.badRecords.length + layout.missing.length + layout.stale.length + layout.orphans.length;
    return { kind: "ok", state, versionOnDisk: typeof version === "number" ? version : 0, ...(problems ? { layout } : {}) };
  } catch (e) {
    if (isCiloError(e) && e.code === "E_STATE_VERSION") return { kind: "too-new", message: e.message };
    const bak = backupPath(file);
    return { kind: "corrupt", message: messageOf(e), ...(backupIsValid(bak) ? { backup: bak } : {}) };
  }
}

function backupIsValid(bak: string): boolean {
  try {
    parseState(readFileSync(bak, "utf8"), bak);
    return true;
  } catch {
    return false;
  }
}

function stateCheck(home: string, st: StateFact): Check {
  const file = statePath(home);
  if (st.kind === "ok") {
    const n = Object.keys(st.state.envs).length;
    return { name: "State", ok: true, detail: `${file}: schema ${st.versionOnDisk}, ${n} env${n === 1 ? "" : "s"}` };
  }
  return { name: "State", ok: false, detail: st.message };
}

async function dnsFact(ctx: CiloContext, state: State, checks: Check[]): Promise<DnsFact> {
  const port = state.config.dns_port;
  const suffixes = [...new Set([state.config.dns_suffix, ...Object.values(state.envs).flatMap((e) => (e.dns_suffix ? [e.dns_suffix] : []))])].sort();
  const resolver = resolverFact(suffixes, port);
  let bin: string;
  try {
    bin = findDnsmasq(ctx.env);
  } catch (e) {
    checks.push({ name: "dnsmasq", ok: false, detail: messageOf(e) });
    return { missing: messageOf(e), running: false, answering: false, inSync: false, port, suffixes, resolver };
  }
  let running = false;
  let pid: number | null = null;
  let inSync = false;
  let names: number | undefined;
  try {
    const s = dnsStatus(dnsEnvsFromState(state, gatewayDnsAddressFor(ctx.env)), dnsOptionsFromState(state, ctx));
    running = s.running;
    pid = s.pid;
    inSync = s.inSync;
    names = s.names;
  } catch {
    // A state that does not render is out of sync by definition.
  }
  const answering = running && (await answers(port));
  const strays = dnsmasqOfHome(dnsFiles(ctx.home), ctx.env)
    .filter((p) => !p.recorded)
    .map((p) => ({ pid: p.pid, config: p.config }));
  checks.push({
    name: "dnsmasq",
    ok: !running || answering,
    detail: `${bin}: ${running ? `running (pid ${pid}) on 127.0.0.1:${port}, ${answering ? "answering" : "NOT answering"}` : `not running (port ${port})`}`,
  });
  const dotted = suffixes.map((s) => `.${s}`).join(" ");
  const cost = `${dotted} names resolve only for programs that ask 127.0.0.1:${port} directly (dig @127.0.0.1 -p ${port} <name>)`;
  checks.push({
    name: "System resolver",
    ok: true,
    ...(resolver === "set-up" ? {} : { warn: true }),
    detail:
      resolver === "set-up"
        ? `sends ${dotted} to 127.0.0.1:${port}`
        : resolver === "unsupported"
          ? `no supported resolver found: ${cost}; see cilo dns setup --print-manual`
          : `not set up: ${cost}; run sudo cilo dns setup`,
  });
  return { running, answering, inSync, ...(names !== undefined ? { names } : {}), port, suffixes, resolver, ...(strays.length > 0 ? { strays } : {}) };
}

async function answers(port: number): Promise<boolean> {
  for (let i = 0; i < 3; i++) if (await dnsAnswers(port, 500)) return true;
  return false;
}

function resolverFact(suffixes: string[], port: number): DnsFact["resolver"] {
  try {
    const r = setupResolver({ suffix: suffixes, port, printManual: true });
    if (r.method === null) return "unsupported";
    return r.files.some((f) => f.changed) ? "not-set-up" : "set-up";
  } catch {
    return "unsupported";
  }
}

/** `<project>/<env>` of the folders two levels under `envs/` (names starting with a dot are cilo's own). */
function workspaceKeys(envs: string): string[] {
  const out: string[] = [];
  for (const project of subdirs(envs)) {
    for (const env of subdirs(join(envs, project))) out.push(`${project}/${env}`);
  }
  return out.sort();
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith("."))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

function aged(dir: string, wanted: (name: string) => boolean): AgedPath[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter(wanted).sort();
  } catch {
    return [];
  }
  const now = Date.now();
  return names.flatMap((n) => {
    try {
      return [{ path: join(dir, n), ageMs: Math.max(0, now - statSync(join(dir, n)).mtimeMs) }];
    } catch {
      return [];
    }
  });
}

function realPath(p: string): string {
  try {
    return existsSync(p) ? realpathSync(p) : p;
  } catch {
    return p;
  }
}

function listDirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}
