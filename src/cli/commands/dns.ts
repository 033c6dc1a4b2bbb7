import type { CiloContext } from "../../core/context/context.ts";
import { dirname, join } from "node:path";
import { dnsStatus, renderDns, stopDns } from "../../core/dns/dnsmasq.ts";
import { dnsEnvsFromState, dnsOptionsFromState, gatewayDnsAddressFor, resolverSuffixes } from "../../core/dns/from-state.ts";
import { setupResolver, teardownResolver } from "../../core/dns/setup.ts";
import { syncDnsWithState } from "../../core/dns/dns.ts";
import { caFiles } from "../../core/gateway/ca.ts";
import { uninstallTrust } from "../../core/gateway/trust.ts";
import { isCiloError, usageError } from "../../core/errors.ts";
import { DEFAULT_CONFIG, emptyState, type State } from "../../core/state/schema.ts";
import { readState } from "../../core/state/store.ts";
import { printJson, println, warn } from "../output.ts";

interface DnsCommandOptions {
  json?: boolean;
  dryRun?: boolean;
  printManual?: boolean;
  root?: string;
}

const ACTIONS = ["status", "start", "stop", "render", "setup", "teardown"];

/** `cilo dns status|start|stop|render|setup|teardown`: cilo's dnsmasq, rendered from state (SPEC §5). */
export default async function dns(ctx: CiloContext, action: string, opts: DnsCommandOptions): Promise<number> {
  switch (action) {
    case "status":
      return status(ctx, opts);
    case "start":
      return start(ctx, opts);
    case "stop":
      return stop(ctx, opts);
    case "render":
      return render(ctx, opts);
    case "setup":
      return setup(ctx, opts);
    case "teardown":
      return teardown(ctx, opts);
    default:
      throw usageError(`Unknown dns action "${action ?? ""}"`, `Use one of: ${ACTIONS.join(", ")}`);
  }
}

function status(ctx: CiloContext, opts: DnsCommandOptions): number {
  const state = readState(ctx);
  const s = dnsStatus(dnsEnvsFromState(state, gatewayDnsAddressFor(ctx.env)), dnsOptionsFromState(state, ctx));
  if (opts.json) {
    printJson({
      running: s.running,
      pid: s.pid,
      port: s.port,
      names: s.names,
      in_sync: s.inSync,
      config_path: s.configPath,
      hosts_dir: s.hostsDir,
      upstreams: s.upstreams,
    });
    return 0;
  }
  const rows: [string, string][] = [
    ["dnsmasq", s.running ? `running (pid ${s.pid}) on 127.0.0.1:${s.port}` : `not running (port ${s.port}); start it with: cilo dns start`],
    ["names", String(s.names)],
    ["in sync", s.inSync ? "yes" : "no; apply the state with: cilo dns start"],
    ["config", s.configPath],
    ["hosts dir", s.hostsDir],
    ["upstreams", s.upstreams.join(", ") || "none (names outside the suffix are not answered)"],
  ];
  for (const [k, v] of rows) println(`${k.padEnd(10)} ${v}`);
  return 0;
}

async function start(ctx: CiloContext, opts: DnsCommandOptions): Promise<number> {
  readState(ctx); // a corrupt or invalid state stops here, before the dns folder is touched
  const r = await syncDnsWithState(ctx);
  if (opts.json) {
    const { full: _full, ...shown } = r; // always a full apply here; not part of the output's schema
    printJson(shown);
    return 0;
  }
  const how = r.started
    ? "started"
    : r.restarted
      ? `restarted in ${r.restartMs} ms`
      : r.switched
        ? `took the new wildcard names in ${r.switchMs} ms`
        : "already running";
  println(`dnsmasq ${how} (pid ${r.pid}): ${r.names} names, ${r.written.length} hosts files written, ${r.removed.length} removed`);
  return 0;
}

async function stop(ctx: CiloContext, opts: DnsCommandOptions): Promise<number> {
  const stopped = await stopDns(ctx);
  if (opts.json) {
    printJson({ stopped: stopped.length > 0, processes: stopped.map((p) => ({ pid: p.pid, role: p.role, config: p.config, recorded: p.recorded })) });
    return 0;
  }
  if (stopped.length === 0) println("dnsmasq was not running");
  for (const p of stopped) {
    const what = p.role === "front" ? "dnsmasq" : `wildcard dnsmasq (port ${p.port})`;
    println(`${what} stopped (pid ${p.pid})${p.recorded ? "" : `: a stray, not recorded in ${dirname(p.config)}`}`);
  }
  return 0;
}

function render(ctx: CiloContext, opts: DnsCommandOptions): number {
  const state = readState(ctx);
  const { config, hostsFiles, wildcards, files } = renderDns(dnsEnvsFromState(state, gatewayDnsAddressFor(ctx.env)), dnsOptionsFromState(state, ctx));
  const hosts = Object.fromEntries(Object.entries(hostsFiles).map(([name, content]) => [join(files.hostsDir, name), content]));
  if (opts.json) {
    printJson({ config: { path: files.config, content: config }, hosts, wildcards });
    return 0;
  }
  const parts = [
    [files.config, config],
    ...Object.entries(hosts),
    [`wildcards (served by the wildcard instance, forwarded through ${files.servers})`, wildcards],
  ].map(([path, content]) => `==> ${path} <==\n${content}`);
  process.stdout.write(parts.join("\n"));
  return 0;
}

function setup(ctx: CiloContext, opts: DnsCommandOptions): number {
  const state = stateOrDefaults(ctx);
  const { suffixes, skipped } = resolverSuffixes(state);
  for (const s of skipped) warn(`Not wiring .${s} (an env's project suffix, not under a private-use name) to cilo`);
  const r = setupResolver({
    suffix: suffixes,
    port: state.config.dns_port,
    ...(opts.root ? { root: opts.root } : {}),
    ...(opts.printManual ? { printManual: true } : {}),
  });
  if (opts.json) {
    printJson(r);
    return 0;
  }
  if (opts.printManual) {
    println(r.manual);
    return 0;
  }
  for (const f of r.files) println(`${f.changed ? "wrote" : "unchanged"} ${f.path}`);
  if (r.written && r.reload) println(`Now run: sudo ${r.reload}`);
  return 0;
}

/** Removes what `cilo dns setup` wrote (only files that carry its header). */
function teardown(ctx: CiloContext, opts: DnsCommandOptions): number {
  const root = opts.root ? { root: opts.root } : {};
  const r = teardownResolver({ ...root, ...(opts.dryRun ? { dryRun: true } : {}) });
  // What cilo trust installed goes too (only its own marked files): both are cilo's system changes.
  const trust = uninstallTrust({ ...root, ...(opts.dryRun ? { dryRun: true } : {}), certPath: caFiles(ctx.home).cert, homeId: homeIdOr(ctx) });
  if (opts.json) {
    printJson({ ...r, dry_run: opts.dryRun === true, trust });
    return 0;
  }
  const verb = opts.dryRun ? "would remove" : "removed";
  for (const f of [...r.removed, ...trust.removed]) println(`${verb} ${f}`);
  for (const f of r.kept) println(`kept ${f} (not written by cilo dns setup)`);
  for (const f of trust.kept) println(`kept ${f} (not written by cilo trust)`);
  if (r.removed.length === 0) println("Nothing to remove: no resolver file written by cilo dns setup was found");
  if (!opts.dryRun) for (const cmd of r.reload) println(`Now run: sudo ${cmd}`);
  if (!opts.dryRun && process.platform === "linux") for (const cmd of trust.commands) println(`Now run: sudo ${cmd}`);
  if (process.platform !== "linux") for (const cmd of trust.commands) println(`To remove cilo's CA from the system store too, run: ${cmd}`);
  return 0;
}

/** The home id for naming this home's CA (a home not initialised has no CA of its own). */
function homeIdOr(ctx: CiloContext): string {
  try {
    return readState(ctx).home_id;
  } catch {
    return "uninitialised";
  }
}

/** `sudo cilo dns setup` often runs with root's home, where cilo is not initialised. */
function stateOrDefaults(ctx: CiloContext): State {
  try {
    return readState(ctx);
  } catch (e) {
    if (!isCiloError(e) || e.code !== "E_NOT_INITIALISED") throw e;
    warn(`cilo is not initialised in ${ctx.home}; using the default port ${DEFAULT_CONFIG.dns_port} and suffix .${DEFAULT_CONFIG.dns_suffix}`);
    return emptyState("uninitialised");
  }
}
