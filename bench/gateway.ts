// The gateway (issue 12) against going straight to the container's IP, in the same run, on the
// local engine: requests/s and p50/p99 latency for 1 and 50 concurrent keep-alive connections
// (a small Node client), and one config change (an env comes up) until its name answers, with the
// requests that failed meanwhile on another env.
//   node --import tsx bench/gateway.ts [--seconds 5]
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../test/helpers/docker.ts";
import { median, numberArg, printTable, sh, type Row } from "./lib.ts";

const root = new URL("..", import.meta.url).pathname;
const SECONDS = numberArg("--seconds", 5);
const IMAGE = process.env["CILO_TEST_GATEWAY_IMAGE"] ?? "cilo-test/caddy:latest";
const base = mkdtempSync(join(tmpdir(), "cilo-bench-gw-"));
const project = `gwbench-${Math.random().toString(36).slice(2, 7)}`;
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

/** `conns` keep-alive connections, each sending its next request when the last one answered. */
async function load(t: Target, conns: number, ms: number, until?: () => boolean): Promise<Load> {
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
  const inner: Target = { ...gw, address: gwIp, port: 80 };
  await load(gw, 4, 1000); // warm both paths
  await load(direct, 4, 1000);
  for (const conns of [1, 50]) {
    const d = await load(direct, conns, SECONDS * 1000);
    const g = await load(gw, conns, SECONDS * 1000);
    const i = await load(inner, conns, SECONDS * 1000);
    console.log(`${conns} conn: gateway at its container IP (no port publishing) ${i.rps.toFixed(0)} req/s p50 ${i.p50.toFixed(2)} ms`);
    console.log(
      `${conns} conn: direct ${d.rps.toFixed(0)} req/s p50 ${d.p50.toFixed(2)} p99 ${d.p99.toFixed(2)} ms (${d.failed} failed); gateway ${g.rps.toFixed(0)} req/s p50 ${g.p50.toFixed(2)} p99 ${g.p99.toFixed(2)} ms (${g.failed} failed)`,
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
