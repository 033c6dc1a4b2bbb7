// The gateway (issue 12) against going straight to the container's IP, in the same run, on the
// local engine: requests/s and p50/p99 latency for 1 and 50 concurrent keep-alive connections,
// and one config change (an env comes up) until its name answers, with the requests that failed
// meanwhile on another env. Beside them, a plain Caddy (the same image, a minimal hand-written
// config: one reverse_proxy, one process, published on the loopback the same way) proxying to the
// same service: what any one-hop proxy costs on this machine, so that the ratio of cilo's gateway
// to it is what cilo itself adds (docs/routing.md, "What the gateway costs").
// When Debian's nginx is installed (apt-get install nginx), a plain nginx one hop too: a process on
// the host (one worker, upstream keep-alive), listening on the loopback, so no port publishing;
// it stands beside the plain Caddy at its container IP, which has none either.
// The load comes from `wrk` when it is on PATH (apt-get install wrk), else from a small Node
// client; `--client node` forces the latter. The Node client is client-bound: straight to the
// container IP at 50 connections it made 1,898-3,312 req/s at 160-209 CPU-µs per request where
// wrk made 8,366-8,572 at 27-28 (same minute), and it shares the two cores with what it measures.
//   node --import tsx bench/gateway.ts [--seconds 5] [--client node]
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../test/helpers/docker.ts";
import { median, numberArg, printTable, sh, type Row } from "./lib.ts";
import { stateEnvs } from "../test/helpers/state-files.ts";

const root = new URL("..", import.meta.url).pathname;
const SECONDS = numberArg("--seconds", 5);
const IMAGE = process.env["CILO_TEST_GATEWAY_IMAGE"] ?? "cilo-test/caddy:latest";
const base = mkdtempSync(join(tmpdir(), "cilo-bench-gw-"));
const project = `gwbench-${Math.random().toString(36).slice(2, 7)}`;
const plainName = `${project}-plain-caddy`;
const src = join(base, project);
const home = join(base, "home");
const env = { ...process.env, CILO_HOME: home, CILO_GATEWAY: "on", CILO_GATEWAY_IMAGE: IMAGE };
const cilo = (...a: string[]) => sh(process.execPath, [join(root, "dist/cilo.mjs"), ...a], { env, cwd: src });
const ciloAsync = (...a: string[]) =>
  new Promise<number>((resolve) =>
    spawn(process.execPath, [join(root, "dist/cilo.mjs"), ...a], { env, cwd: src, stdio: "ignore" }).on("close", (c) => resolve(c ?? 1)),
  );

interface Target {
  port: number;
  address: string;
  host: string;
  /** CPU-µs used so far by the proxy on this path (its container's cgroup, or host processes). */
  cpu?: () => number;
}
interface Load {
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  failed: number;
}

function get(agent: Agent, t: Target): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: t.address, port: t.port, path: "/", headers: { Host: t.host }, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode === 200));
      res.on("error", () => resolve(false));
    });
    req.on("error", () => resolve(false));
    req.end();
  });
}

const WRK = !process.argv.includes("--client") && spawnSync("wrk", ["--version"]).error === undefined;

/** wrk's latency figures (`412.00us`, `1.35ms`, `2.01s`) in ms. */
function wrkMs(text: string, label: string): number {
  const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(text);
  if (!m) return Number.NaN;
  return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
}

/** The same load with wrk: `conns` keep-alive connections (up to 2 threads) for `ms`. */
function loadWrk(t: Target, conns: number, ms: number): Load {
  const url = `http://${t.address.includes(":") ? `[${t.address}]` : t.address}:${t.port}/`;
  const args = [
    "-t",
    String(Math.min(2, conns)),
    "-c",
    String(conns),
    "-d",
    `${Math.max(1, Math.round(ms / 1000))}s`,
    "--latency",
    "-H",
    `Host: ${t.host}`,
    url,
  ];
  const out = sh("wrk", args);
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
  const total = num(/(\d+) requests in/);
  const failed = num(/Non-2xx or 3xx responses: (\d+)/) + [...out.matchAll(/(?:connect|read|write|timeout) (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
  return { rps: num(/Requests\/sec:\s+([\d.]+)/), p50: wrkMs(out, "50%"), p99: wrkMs(out, "99%"), ok: total - failed, failed };
}

/** `conns` keep-alive connections, each sending its next request when the last one answered. */
async function load(t: Target, conns: number, ms: number, until?: () => boolean): Promise<Load> {
  if (WRK && !until) return loadWrk(t, conns, ms);
  const agent = new Agent({ keepAlive: true, maxSockets: conns });
  const lat: number[] = [];
  let failed = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: conns }, async () => {
      while (until ? !until() : performance.now() < end) {
        const s = performance.now();
        if (await get(agent, t)) lat.push(performance.now() - s);
        else failed++;
      }
    }),
  );
  const took = (performance.now() - t0) / 1000;
  agent.destroy();
  const sorted = lat.sort((a, b) => a - b);
  return { rps: lat.length / took, p50: median(sorted), p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0, ok: lat.length, failed };
}

/** A plain nginx on the host proxying to `upstream` on a free loopback port, when nginx is installed; else undefined. */
async function startNginx(upstream: string): Promise<Target | undefined> {
  if (spawnSync("nginx", ["-v"]).error !== undefined) return undefined;
  const dir = join(base, "nginx");
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  writeFileSync(
    join(dir, "nginx.conf"),
    `worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log; daemon on;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  upstream u { server ${upstream}; keepalive 64; }
  server { listen 127.0.0.1:${port}; location / { proxy_pass http://u; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; } }
}
`,
  );
  sh("nginx", ["-c", join(dir, "nginx.conf"), "-p", dir]);
  const master = () => Number(readFileSync(join(dir, "nginx.pid"), "utf8").trim());
  return { address: "127.0.0.1", port, host: "web", cpu: processCpu(() => [master(), ...pgrep(["-P", String(master())])]) };
}

function stopNginx(): void {
  try {
    process.kill(Number(readFileSync(join(base, "nginx", "nginx.pid"), "utf8").trim()), "SIGTERM");
  } catch {
    /* not started */
  }
}

/** CPU-µs a container has used, from its cgroup (v1 cpuacct or v2 cpu.stat); NaN when unreadable. */
function containerCpu(name: string): () => number {
  const id = execFileSync("docker", ["inspect", "-f", "{{.Id}}", name], { encoding: "utf8" }).trim();
  return () => {
    try {
      return Number(readFileSync(`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, "utf8")) / 1000;
    } catch {
      try {
        return Number(/usage_usec (\d+)/.exec(readFileSync(`/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`, "utf8"))?.[1]);
      } catch {
        return Number.NaN;
      }
    }
  };
}

/** CPU-µs (user + system) used by host processes, at 100 ticks a second (Linux's USER_HZ). */
function processCpu(pids: () => number[]): () => number {
  return () =>
    pids().reduce((sum, pid) => {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
        return sum + (Number(f[11]) + Number(f[12])) * 10_000;
      } catch {
        return sum;
      }
    }, 0);
}

const pgrep = (args: string[]) => spawnSync("pgrep", args, { encoding: "utf8" }).stdout.split("\n").filter(Boolean).map(Number);

/** The engine's userland proxy (docker-proxy) holding a published loopback port, when there is one. */
function dockerProxyCpu(port: number): () => number {
  return processCpu(() => pgrep(["-f", `docker-proxy .*-host-port ${port} `]));
}

/** `load`, with the CPU-µs per request of the path's proxy, the upstream and docker-proxy. */
async function measured(
  t: Target,
  conns: number,
  upstream: () => number,
  dockerProxy?: () => number,
): Promise<Load & { proxyUs: number; upUs: number; dpUs: number }> {
  const before = [t.cpu?.() ?? 0, upstream(), dockerProxy?.() ?? 0];
  const r = await load(t, conns, SECONDS * 1000);
  const after = [t.cpu?.() ?? 0, upstream(), dockerProxy?.() ?? 0];
  const per = (k: number) => (after[k]! - before[k]!) / Math.max(1, r.ok + r.failed);
  return { ...r, proxyUs: per(0), upUs: per(1), dpUs: per(2) };
}

const cpuText = (l: { proxyUs: number; upUs: number; dpUs: number }) =>
  `CPU-µs/req: proxy ${l.proxyUs.toFixed(0)}, upstream ${l.upUs.toFixed(0)}${l.dpUs > 0 ? `, docker-proxy ${l.dpUs.toFixed(0)}` : ""}`;

const rows: Row[] = [];
try {
  mkdirSync(src, { recursive: true });
  // The upstream is Caddy's own `respond` (keep-alive, fast), so the figures are the gateway's, not busybox's.
  writeFileSync(join(src, "compose.yml"), `services:\n  web:\n    image: ${IMAGE}\n    command: ["caddy", "respond", "--listen", ":80", "--body", "hello"]\n`);
  const gwPort = await freePort();
  cilo("init", "--dns-port", String(await freePort()), "--gateway-http-port", String(gwPort));
  cilo("create", "a");
  cilo("create", "b");
  cilo("up", "a");
  const ip = JSON.parse(cilo("status", "a", "--json")).services.find((s: { name: string }) => s.name === "web").ip as string;
  const direct: Target = { address: ip, port: 80, host: "web" };
  const gw: Target = { address: "127.0.0.1", port: gwPort, host: `web.a.${project}.localhost` };
  // The gateway container's own address on env a's network: the same two Caddy hops without the
  // engine's port publishing (docker-proxy), to show where the time goes.
  const homeId = JSON.parse(readFileSync(join(home, "state.json"), "utf8")).home_id as string;
  const gwIp = execFileSync("docker", ["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", `cilo_${homeId}_gateway`], {
    encoding: "utf8",
  })
    .trim()
    .split(" ")[0]!;
  gw.cpu = containerCpu(`cilo_${homeId}_gateway`);
  const inner: Target = { ...gw, address: gwIp, port: 80 };
  // A plain Caddy from the same image on env a's network, published on the loopback like the
  // gateway, with the smallest config that proxies to the same service (its defaults otherwise).
  const network = stateEnvs(home)[`${project}/a`].docker_name as string;
  // The service's container: env a's one container of service web.
  const webContainer = execFileSync("docker", ["ps", "-q", "--filter", `network=${network}`, "--filter", "label=com.docker.compose.service=web"], {
    encoding: "utf8",
  }).trim();
  const upCpu = containerCpu(webContainer);
  const plainPort = await freePort();
  writeFileSync(
    join(base, "plain.json"),
    JSON.stringify({
      admin: { disabled: true },
      apps: {
        http: {
          servers: {
            p: { listen: [":80"], automatic_https: { disable: true }, routes: [{ handle: [{ handler: "reverse_proxy", upstreams: [{ dial: `${ip}:80` }] }] }] },
          },
        },
      },
    }),
  );
  sh("docker", [
    "run",
    "-d",
    "--name",
    plainName,
    "--label",
    `cilo.bench=${project}`,
    "--network",
    network,
    "-p",
    `127.0.0.1:${plainPort}:80`,
    "-v",
    `${join(base, "plain.json")}:/etc/caddy/plain.json:ro`,
    IMAGE,
    "caddy",
    "run",
    "--config",
    "/etc/caddy/plain.json",
  ]);
  const plain: Target = { address: "127.0.0.1", port: plainPort, host: "web", cpu: containerCpu(plainName) };
  const plainIp = execFileSync("docker", ["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", plainName], { encoding: "utf8" })
    .trim()
    .split(" ")[0]!;
  const plainInner: Target = { ...plain, address: plainIp, port: 80 };
  const nginx = await startNginx(`${ip}:80`);
  console.log(`load client: ${WRK ? "wrk" : "node (bench/gateway.ts)"}`);
  await load(gw, 4, 1000); // warm every path
  await load(direct, 4, 1000);
  await load(plain, 4, 1000);
  for (const conns of [1, 50]) {
    const d = await measured(direct, conns, upCpu);
    const g = await measured(gw, conns, upCpu, dockerProxyCpu(gwPort));
    const p = await measured(plain, conns, upCpu, dockerProxyCpu(plainPort));
    const i = await measured(inner, conns, upCpu);
    const pi = await measured(plainInner, conns, upCpu);
    const n = nginx ? await measured(nginx, conns, upCpu) : undefined;
    console.log(`${conns} conn: direct ${cpuText(d)}; gateway ${cpuText(g)}; plain Caddy ${cpuText(p)}`);
    console.log(`${conns} conn: gateway at its container IP (no port publishing) ${i.rps.toFixed(0)} req/s p50 ${i.p50.toFixed(2)} ms, ${cpuText(i)}`);
    console.log(`${conns} conn: plain Caddy at its container IP (no port publishing) ${pi.rps.toFixed(0)} req/s p50 ${pi.p50.toFixed(2)} ms, ${cpuText(pi)}`);
    if (n)
      console.log(
        `${conns} conn: plain nginx on the host (one hop, one worker) ${n.rps.toFixed(0)} req/s p50 ${n.p50.toFixed(2)} ms (${n.failed} failed), ${cpuText(n)}`,
      );
    console.log(
      `${conns} conn: plain Caddy (one hop, minimal config) ${p.rps.toFixed(0)} req/s p50 ${p.p50.toFixed(2)} p99 ${p.p99.toFixed(2)} ms (${p.failed} failed)`,
    );
    console.log(
      `${conns} conn: direct ${d.rps.toFixed(0)} req/s p50 ${d.p50.toFixed(2)} p99 ${d.p99.toFixed(2)} ms (${d.failed} failed); gateway ${g.rps.toFixed(0)} req/s p50 ${g.p50.toFixed(2)} p99 ${g.p99.toFixed(2)} ms (${g.failed} failed)`,
    );
    const c = `${conns} conn${conns > 1 ? "s" : ""}`;
    rows.push(
      {
        what: `req/s, ${c}, plain Caddy (one hop)`,
        value: p.rps,
        unit: "req/s",
        versus: "straight to the container IP",
        base: d.rps,
        target: "report",
        ok: true,
      },
      { what: `p50, ${c}, plain Caddy (one hop)`, value: p.p50, unit: "ms", versus: "straight to the container IP", base: d.p50, target: "report", ok: true },
      { what: `req/s, ${c}, gateway`, value: g.rps, unit: "req/s", versus: "plain Caddy (one hop)", base: p.rps, target: "report", ok: true },
      { what: `p50, ${c}, gateway`, value: g.p50, unit: "ms", versus: "plain Caddy (one hop)", base: p.p50, target: "report", ok: true },
      {
        what: `req/s, ${c}, gateway at its container IP`,
        value: i.rps,
        unit: "req/s",
        versus: "plain Caddy at its container IP",
        base: pi.rps,
        target: "report",
        ok: true,
      },
    );
    if (n)
      rows.push(
        {
          what: `req/s, ${c}, plain nginx (one hop, host)`,
          value: n.rps,
          unit: "req/s",
          versus: "straight to the container IP",
          base: d.rps,
          target: "report",
          ok: true,
        },
        {
          what: `p50, ${c}, plain nginx (one hop, host)`,
          value: n.p50,
          unit: "ms",
          versus: "straight to the container IP",
          base: d.p50,
          target: "report",
          ok: true,
        },
        {
          what: `req/s, ${c}, plain nginx (one hop, host)`,
          value: n.rps,
          unit: "req/s",
          versus: "plain Caddy at its container IP",
          base: pi.rps,
          target: "report",
          ok: true,
        },
      );
    rows.push(
      {
        what: `req/s, ${conns} keep-alive conn${conns > 1 ? "s" : ""}, gateway`,
        value: g.rps,
        unit: "req/s",
        versus: "straight to the container IP",
        base: d.rps,
        target: conns === 50 ? "≥ 0.7×" : "report",
        ok: g.rps >= 0.7 * d.rps,
      },
      {
        what: `p50, ${conns} conn${conns > 1 ? "s" : ""}, gateway`,
        value: g.p50,
        unit: "ms",
        versus: "straight to the container IP",
        base: d.p50,
        target: "≤ +1 ms",
        ok: g.p50 - d.p50 <= 1,
      },
      {
        what: `p99, ${conns} conn${conns > 1 ? "s" : ""}, gateway`,
        value: g.p99,
        unit: "ms",
        versus: "straight to the container IP",
        base: d.p99,
        target: "report",
        ok: true,
      },
    );
  }
  // A config change: `cilo up b` while 4 connections load env a; then until web.b answers.
  let done = false;
  const during = load(gw, 4, 0, () => done);
  const t0 = performance.now();
  const code = await ciloAsync("up", "b");
  const upMs = performance.now() - t0;
  const b: Target = { ...gw, host: `web.b.${project}.localhost` };
  const probe = new Agent();
  while (!(await get(probe, b)) && performance.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 20));
  const answerMs = performance.now() - t0;
  done = true;
  const inflight = await during;
  if (code !== 0) throw new Error(`cilo up b exited ${code}`);
  console.log(
    `config change: cilo up b took ${upMs.toFixed(0)} ms, web.b answered after ${answerMs.toFixed(0)} ms; env a meanwhile: ${inflight.ok} ok, ${inflight.failed} failed`,
  );
  rows.push(
    { what: "one env up until its name answers (gateway)", value: answerMs, unit: "ms", versus: "cilo up itself", base: upMs, target: "report", ok: true },
    {
      what: `failed requests to another env meanwhile (of ${inflight.ok + inflight.failed})`,
      value: inflight.failed,
      unit: "req",
      versus: "target",
      base: 1,
      target: "= 0",
      ok: inflight.failed === 0,
    },
  );
} finally {
  stopNginx();
  // First: it is on env a's network, which destroy removes.
  spawnSync("docker", ["rm", "-f", plainName], { stdio: "ignore" });
  for (const e of ["a", "b"]) {
    try {
      cilo("destroy", e, "--force");
    } catch {
      /* not there */
    }
  }
  try {
    cilo("dns", "stop");
  } catch {
    /* not running */
  }
  const id = (() => {
    try {
      return JSON.parse(readFileSync(join(home, "state.json"), "utf8")).home_id as string;
    } catch {
      return "";
    }
  })();
  if (id) execFileSync("sh", ["-c", `docker rm -f $(docker ps -aq --filter name=^cilo_${id}_gateway$ --filter label=cilo.home=${id}) 2>/dev/null || true`]);
  rmSync(base, { recursive: true, force: true });
}
printTable("gateway vs straight to the container IP (same run, local engine)", rows);
