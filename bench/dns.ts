// DNS render/write cost and query latency with 1,000 envs × 10 services (10,000 service names).
//   node --import tsx bench/dns.ts
// Figures are compared with a baseline measured in the same run, never across runs.
import { execFileSync } from "node:child_process";
import { Resolver } from "node:dns/promises";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyDns, stopDns } from "../src/core/dns/dnsmasq.ts";
import { type DnsEnv, planDns, renderMainConfig, renderServersFile, renderWildcardConfig } from "../src/core/dns/render.ts";
import { printTable, type Row } from "./lib.ts";
import { freePort } from "../test/helpers/docker.ts";

const ENVS = 1_000;
const SERVICE_NAMES = ["web", "api", "db", "cache", "worker", "queue", "search", "mail", "auth", "admin"];
const RUNS = 10;

/** Variant `v` moves every non-ingress service; the ingress keeps its address (no restart). */
function envs(v: number): DnsEnv[] {
  return Array.from({ length: ENVS }, (_, i) => ({
    project: `p${i % 20}`,
    env: `env-${i}`,
    suffix: "test",
    services: SERVICE_NAMES.map((name, k) => ({
      name,
      ip: `10.${224 + (i >> 8)}.${i & 255}.${name === "web" ? 2 : 3 + ((k + v) % 200)}`,
      ...(name === "web" ? { ingress: true, hostnames: ["www"] } : {}),
    })),
  }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed(runs: number, fn: (i: number) => unknown): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn(i);
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** CPU time (ms) a process has used, from /proc. */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** Waits until dnsmasq has worked through the file events it was sent (its CPU time stops moving). */
async function settle(pid: number): Promise<void> {
  let last = cpuMs(pid);
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const now = cpuMs(pid);
    if (now === last) return;
    last = now;
  }
}

/** dig's own "Query time" (integer ms) and a Node resolver round trip per server, medians of 50, alternating servers. */
async function queryLatency(ports: number[], names: string[]): Promise<{ dig: number; node: number }[]> {
  const resolvers = ports.map((port) => {
    const r = new Resolver({ timeout: 1_000, tries: 3 });
    r.setServers([`127.0.0.1:${port}`]);
    return r;
  });
  const digMs = ports.map(() => [] as number[]);
  const nodeMs = ports.map(() => [] as number[]);
  for (let i = 0; i < 55; i++) {
    const name = names[(i * 211) % names.length]!;
    for (let k = 0; k < ports.length; k++) {
      const out = execFileSync("dig", ["@127.0.0.1", "-p", String(ports[k]), name, "+tries=3", "+time=1"], { encoding: "utf8" });
      const t0 = performance.now();
      await resolvers[k]!.resolve4(name).catch(() => []);
      if (i < 5) continue; // warm-up
      nodeMs[k]!.push(performance.now() - t0);
      digMs[k]!.push(Number(/Query time: (\d+) msec/.exec(out)?.[1] ?? NaN));
    }
  }
  return ports.map((_, k) => ({ dig: median(digMs[k]!), node: median(nodeMs[k]!) }));
}

/**
 * A client that never retries (one try, 300 ms), asking in a loop for names that no change
 * touches: an error or a wrong answer is a lost query. The DNS tests assert 0; here it is a row.
 */
function strictClient(port: number, expected: Record<string, string>) {
  const r = new Resolver({ timeout: 300, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  const names = Object.keys(expected);
  const stats = { queries: 0, lost: 0, ms: 0 };
  let running = true;
  const t0 = performance.now();
  const done = (async () => {
    for (let i = 0; running; i++) {
      const name = names[i % names.length]!;
      stats.queries++;
      const a = await r.resolve4(name).catch(() => [] as string[]);
      if (a[0] !== expected[name]) stats.lost++;
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      stats.ms = performance.now() - t0;
      return stats;
    },
  };
}

const home = mkdtempSync(join(tmpdir(), "cilo-bench-dns-"));
const emptyHome = mkdtempSync(join(tmpdir(), "cilo-bench-dns-empty-"));
try {
  const inputs = Array.from({ length: RUNS + 1 }, (_, i) => envs(i));
  const plan = planDns(inputs[0]!);
  const names = inputs[0]!.flatMap((e) => e.services.map((s) => `${s.name}.${e.env}.${e.suffix}`));
  const hostsBytes = Object.values(plan.hostsFiles).join("");

  const render = await timed(RUNS, (i) => {
    const p = planDns(inputs[i]!);
    renderMainConfig({ port: 5354, dir: "/x/hosts", upstreams: [], suffixes: ["test"], serversFile: "/x/servers", pidFile: "/x/pid" });
    renderServersFile(p.wildcards, 5355);
    renderWildcardConfig({ port: 5355, pidFile: "/x/w.pid", wildcards: p.wildcards });
  });
  const baselineFile = join(home, "baseline.json");
  const baseline = await timed(RUNS, (i) => writeFileSync(baselineFile, JSON.stringify(inputs[i]!)));

  const port = await freePort();
  const opts = { home, env: process.env, port, upstreams: [] };
  const t0 = performance.now();
  const first = await applyDns(inputs[0]!, opts);
  const firstMs = performance.now() - t0;
  const pid = first.pid;
  if (pid === null) throw new Error("dnsmasq did not start");
  await settle(pid);

  const cpuBefore = cpuMs(pid);
  const rewrite = await timed(RUNS, (i) => applyDns(inputs[i + 1]!, opts));
  await settle(pid);
  const rewriteCpu = (cpuMs(pid) - cpuBefore) / RUNS;

  const last = inputs[RUNS]!;
  // Names of env-1, which no change below touches: an exact name and one under its wildcard.
  const env1 = last[1]!;
  const kept = {
    [`api.${env1.env}.test`]: env1.services.find((s) => s.name === "api")!.ip ?? "",
    [`any.${env1.project}.${env1.env}.test`]: env1.services.find((s) => s.name === "web")!.ip ?? "",
  };
  const quiet = strictClient(port, kept);
  await new Promise((r) => setTimeout(r, 3_000));
  const quietStats = await quiet.stop();
  const strict = strictClient(port, kept);
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  const visible: number[] = [];
  const single = await timed(RUNS, async (i) => {
    const changed = last.map((e, k) => (k === 500 ? { ...e, services: e.services.map((s) => (s.name === "api" ? { ...s, ip: `10.99.0.${i + 1}` } : s)) } : e));
    const s0 = performance.now();
    await applyDns(changed, opts);
    for (;;) {
      const a = await resolver.resolve4("api.env-500.test").catch(() => []);
      if (a[0] === `10.99.0.${i + 1}`) break;
    }
    visible.push(performance.now() - s0);
  });
  const unchanged = await timed(RUNS, () => applyDns(last, opts));

  // A wildcard change (env-500's ingress moves): a new wildcard instance starts and the front
  // switches to it without a restart; until a name under the apex answers the new address.
  const wildcardVisible: number[] = [];
  const switchMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const ip = `10.98.0.${i + 1}`;
    const moved = last.map((e, k) => (k === 500 ? { ...e, services: e.services.map((s) => (s.name === "web" ? { ...s, ip } : s)) } : e));
    const s0 = performance.now();
    const r = await applyDns(moved, opts);
    if (r.switchMs !== undefined) switchMs.push(r.switchMs);
    for (;;) {
      const a = await resolver.resolve4("any.p0.env-500.test").catch(() => []);
      if (a[0] === ip) break;
      if (performance.now() - s0 > 10_000) throw new Error(`any.p0.env-500.test did not answer ${ip} within 10 s of a wildcard change`);
    }
    wildcardVisible.push(performance.now() - s0);
  }
  await applyDns(last, opts);
  const strictStats = await strict.stop();
  const slowestExact = Math.max(...visible);
  const slowestWildcard = Math.max(...wildcardVisible);
  const slowestSwitch = Math.max(...switchMs);

  const emptyPort = await freePort();
  await applyDns([], { home: emptyHome, env: process.env, port: emptyPort, upstreams: [], suffixes: ["test"] });
  await settle(pid);
  const [loaded, empty] = await queryLatency([port, emptyPort], names);

  const f = (n: number) => n.toFixed(1).padStart(7);
  console.log(
    `cilo dns bench: ${ENVS} envs × ${SERVICE_NAMES.length} services → ${plan.names} exact names (with 1 hostname per ingress), ${ENVS} wildcards, ${(hostsBytes.length / 1024).toFixed(0)} KiB of hosts files; medians of ${RUNS}`,
  );
  console.log(`  render + validate (planDns + renderMainConfig)            ${f(render)} ms   target < 100 ms: ${render < 100 ? "met" : "MISSED"}`);
  console.log(`  baseline: JSON.stringify + one writeFileSync, same data   ${f(baseline)} ms   render/baseline ${(render / baseline).toFixed(1)}×`);
  console.log(`  applyDns, first start (write ${ENVS} files, start dnsmasq)  ${f(firstMs)} ms`);
  console.log(
    `  applyDns, all ${ENVS} hosts files changed (atomic + fsync)  ${f(rewrite)} ms   ${(rewrite / baseline).toFixed(0)}× baseline; dnsmasq CPU to re-read them ${rewriteCpu.toFixed(0)} ms`,
  );
  console.log(`  applyDns, one env changed                                 ${f(single)} ms   new address answered after ${median(visible).toFixed(1)} ms`);
  console.log(`  applyDns, nothing changed (render + compare)              ${f(unchanged)} ms`);
  console.log(
    `  wildcard change: applyDns until answered median ${median(wildcardVisible).toFixed(1)} ms, slowest ${slowestWildcard.toFixed(1)} ms; front switched to the new instance after ${median(switchMs)} ms median, ${slowestSwitch} ms slowest (${switchMs.length} switches)`,
  );
  console.log(
    `  query latency (median of 50), ${plan.names} names vs none (NXDOMAIN): dig Query time ${loaded!.dig} ms vs ${empty!.dig} ms; Node resolver round trip ${loaded!.node.toFixed(3)} ms vs ${empty!.node.toFixed(3)} ms`,
  );
  console.log(
    `  non-retrying client (1 try, 300 ms): ${strictStats.lost} of ${strictStats.queries} queries lost during ${RUNS * 2 + 1} changes (${switchMs.length} wildcard switches, ${(strictStats.ms / 1000).toFixed(1)} s); with no change: ${quietStats.lost} of ${quietStats.queries} in ${(quietStats.ms / 1000).toFixed(1)} s`,
  );
  const rows: Row[] = [
    {
      what: `queries lost, non-retrying client, ${RUNS * 2 + 1} changes (of ${strictStats.queries})`,
      value: strictStats.lost,
      unit: "lost",
      versus: `same client, no change (of ${quietStats.queries})`,
      base: quietStats.lost,
      target: "0 lost",
      ok: strictStats.lost === 0,
    },
    {
      what: `DNS render + validate (${plan.names} names)`,
      value: render,
      unit: "ms",
      versus: "JSON.stringify + write, same data",
      base: baseline,
      target: "< 100 ms",
      ok: render < 100,
    },
    {
      what: "one env changed: applyDns until answered",
      value: median(visible),
      unit: "ms",
      versus: "applyDns, nothing changed",
      base: unchanged,
      target: "report",
      ok: true,
    },
    {
      what: `one env changed: until answered, slowest of ${RUNS}`,
      value: slowestExact,
      unit: "ms",
      versus: "applyDns, nothing changed",
      base: unchanged,
      target: "≤ 2000 ms",
      ok: slowestExact <= 2000,
    },
    {
      what: `wildcard change: until answered, slowest of ${RUNS}`,
      value: slowestWildcard,
      unit: "ms",
      versus: "one env changed: until answered, slowest",
      base: slowestExact,
      target: "≤ 2000 ms",
      ok: slowestWildcard <= 2000,
    },
    {
      what: `wildcard change: front switched, slowest of ${switchMs.length}`,
      value: slowestSwitch,
      unit: "ms",
      versus: "one env changed: until answered, slowest",
      base: slowestExact,
      target: "< 2000 ms",
      ok: slowestSwitch < 2000,
    },
    {
      what: `DNS query, ${plan.names} names loaded`,
      value: loaded!.node,
      unit: "ms",
      versus: "same query, no names loaded",
      base: empty!.node,
      target: "report",
      ok: true,
    },
  ];
  printTable(`DNS: ${ENVS} envs × ${SERVICE_NAMES.length} services, medians of ${RUNS} (queries: 50)`, rows);
  if (render >= 100) process.exitCode = 1;
} finally {
  await stopDns({ home, env: process.env });
  await stopDns({ home: emptyHome, env: process.env });
  rmSync(home, { recursive: true, force: true });
  rmSync(emptyHome, { recursive: true, force: true });
}
