// `cilo dns stop` ends every dnsmasq of its home, and only those (dist/cilo.mjs against the real
// dnsmasq). Seen before the fix: a home whose `dns stop` left its front and wildcard dnsmasq
// running. Cause: an env change's full DNS apply (an older build's applied-basis.json makes the next
// apply a full one) stalled for over 5 s while it held the DNS lock (a 10,000-env apply under
// valgrind, a loaded machine, SIGSTOP); `dns stop` took the lock over as stale and stopped
// everything, then the stalled apply went on, found nothing running and started both again.
// Made-up 10.251.x.y addresses need no containers.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, startCilo, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";
import { pollValue } from "../helpers/until.ts";
import { withState } from "../../src/core/state/store.ts";
import type { EnvRecord } from "../../src/core/state/schema.ts";

const homes: string[] = [];
const ENV = { CILO_GATEWAY: "off", CILO_LOCK_TIMEOUT_MS: "30000" };

/** Pids of the dnsmasq processes whose config is in `home`'s dns folder (what `pgrep -af dnsmasq` shows of it). */
function dnsmasqOf(home: string): { pid: number; config: string }[] {
  const dir = `--conf-file=${join(home, "dns")}/`;
  const out: { pid: number; config: string }[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      const conf = argv.find((a) => a.startsWith(dir));
      if (conf && /dnsmasq/.test(argv[0] ?? "")) out.push({ pid: Number(p), config: conf.slice("--conf-file=".length) });
    } catch {
      // exited meanwhile
    }
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** A home with `n` running fake envs, each with an ingress (so the wildcard instance runs), DNS started (the front alone without envs). */
async function homeWithEnvs(n: number): Promise<string> {
  const home = tempDir("cilo-dns-stop-");
  homes.push(home);
  const port = await freePort();
  assert.is(cilo(["init", "--dns-port", String(port)], { home, env: ENV }).code, 0);
  await withState({ home, env: process.env }, (state) => {
    for (let i = 0; i < n; i++) {
      const rec: EnvRecord = {
        project: "shop",
        name: `e${i}`,
        docker_name: `cilo_${state.home_id}_shop_e${i}`,
        status: "running",
        subnet: `10.251.${i}.0/24`,
        workspace: join(home, "envs", "shop", `e${i}`),
        created_at: "2026-01-01T00:00:00.000Z",
        updated_at: "2026-01-01T00:00:00.000Z",
        source: { kind: "copy", path: "/src/app" },
        services: [
          { name: "web", ip: `10.251.${i}.3`, ingress: true },
          { name: "api", ip: `10.251.${i}.2` },
        ],
      } as EnvRecord;
      state.envs[`shop/e${i}`] = rec;
    }
  });
  const r = cilo(["dns", "start"], { home, env: ENV });
  assert.is(r.code, 0, r.stderr);
  const running = dnsmasqOf(home);
  assert.is(running.length, n > 0 ? 2 : 1, `front and wildcard instance: ${JSON.stringify(running)}`);
  return home;
}

/**
 * Starts a dnsmasq by hand on a wildcard instance's config in `home` (its own port), then removes
 * its files, as a start cut short would: it runs and nothing in the dns folder records it.
 */
async function plantStray(home: string): Promise<number> {
  const dns = join(home, "dns");
  const port = await freePort();
  const conf = join(dns, `wildcards-${port}.conf`);
  const pidFile = join(dns, `wildcards-${port}.pid`);
  const lines = [
    `port=${port}`,
    "listen-address=127.0.0.1",
    "bind-interfaces",
    "no-resolv",
    "no-hosts",
    `pid-file=${pidFile}`,
    "address=/stray.test/10.251.99.9",
  ];
  writeFileSync(conf, `${lines.join("\n")}\n`);
  const r = spawnSync("dnsmasq", [`--conf-file=${conf}`, ...(process.getuid?.() === 0 ? ["--user=root"] : [])], { encoding: "utf8" });
  assert.is(r.status, 0, r.stderr);
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  unlinkSync(conf);
  unlinkSync(pidFile);
  assert.ok(
    dnsmasqOf(home).some((p) => p.pid === pid),
    "the planted dnsmasq runs",
  );
  return pid;
}

test("an env change stalled for over 5 s holding the DNS lock, then cilo dns stop: no dnsmasq of the home is left", async () => {
  const home = await homeWithEnvs(3);
  const before = dnsmasqOf(home);
  // An older build applied this home's DNS: its applied-basis.json lacks a field the newer build
  // writes, so the newer build's env change falls back to the full apply (where it stalls).
  writeFileSync(join(home, "dns", "applied-basis.json"), `${JSON.stringify({ dns_suffix: "test", gateway: "" })}\n`);
  const gate = join(home, "go");
  const down = startCilo(["down", "shop/e2"], { home, env: { ...ENV, CILO_FAILPOINT: `dns:apply-locked@pause:${gate}` } });
  await pollValue(
    () => existsSync(`${gate}.waiting`),
    (x) => x,
    { timeoutMs: 60_000, stepMs: 20 },
  );
  // The down's event loop is blocked (as in a stall): its lock goes stale after 5 s and the stop takes it over.
  const t0 = Date.now();
  const stop = cilo(["dns", "stop", "--json"], { home, env: ENV });
  const stopMs = Date.now() - t0;
  assert.is(stop.code, 0, stop.stderr);
  assert.equal(dnsmasqOf(home), [], "nothing runs right after dns stop");
  writeFileSync(gate, "");
  const r = await down.done;
  await new Promise((res) => setTimeout(res, 300));
  const left = dnsmasqOf(home);
  console.log(
    `dns stop took over the stalled apply's lock after ${stopMs} ms; the down then ended with exit ${r.code} (${r.stderr.trim().split("\n")[0] || "no warning"}); dnsmasq of the home left: ${left.length}`,
  );
  assert.equal(left, [], "no dnsmasq of the home runs after the stalled apply went on");
  // The down itself is done (its state is written before DNS); its DNS apply gave up.
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /DNS was not updated: The DNS lock .* was taken over/);
  assert.equal(
    JSON.parse(stop.stdout)
      .processes.map((p: { pid: number }) => p.pid)
      .sort((a: number, b: number) => a - b),
    before.map((p) => p.pid),
    "dns stop named the front and the wildcard instance it stopped",
  );
  assert.match(cilo(["dns", "stop"], { home, env: ENV }).stdout, /dnsmasq was not running/);
});

test("dns stop also ends an unrecorded dnsmasq of this home, says so, and leaves another home's alone; doctor finds one and --fix ends it", async () => {
  // No env: doctor has nothing else to fix (fake envs have no workspace, and it would destroy them).
  const home = await homeWithEnvs(0);
  const other = await homeWithEnvs(1);
  const others = dnsmasqOf(other);

  // doctor: the stray is found and --fix ends it; the recorded front and instance keep running.
  const recorded = dnsmasqOf(home);
  const stray = await plantStray(home);
  const doctor = cilo(["doctor", "--json"], { home, env: ENV });
  const found = JSON.parse(doctor.stdout).findings.filter((f: { id: string }) => f.id === "dns-stray");
  assert.is(found.length, 1, doctor.stdout);
  assert.match(found[0].message, new RegExp(`pid ${stray} on ${join(home, "dns")}/wildcards-\\d+\\.conf`));
  const fix = cilo(["doctor", "--fix", "--json"], { home, env: ENV });
  const fixed = JSON.parse(fix.stdout).fixed.filter((f: { id: string }) => f.id === "dns-stray");
  assert.equal(fixed.length, 1, fix.stdout);
  assert.match(fixed[0].message, new RegExp(`stopped pid ${stray}`), fix.stdout);
  assert.equal(dnsmasqOf(home), recorded, "doctor --fix stopped the stray only");

  // dns stop: the recorded ones and a new stray, each named; the other home's untouched.
  const stray2 = await plantStray(home);
  const stop = cilo(["dns", "stop"], { home, env: ENV });
  assert.is(stop.code, 0, stop.stderr);
  console.log(stop.stdout.trim());
  assert.match(stop.stdout, new RegExp(`^dnsmasq stopped \\(pid ${recorded.find((p) => p.config.endsWith("/dnsmasq.conf"))!.pid}\\)$`, "m"));
  assert.match(stop.stdout, new RegExp(`^wildcard dnsmasq \\(port \\d+\\) stopped \\(pid ${stray2}\\): a stray, not recorded in ${join(home, "dns")}$`, "m"));
  assert.is(stop.stdout.trim().split("\n").length, 2);
  assert.equal(dnsmasqOf(home), []);
  assert.equal(dnsmasqOf(other), others, "another home's dnsmasq is never stopped");
  assert.equal(JSON.parse(cilo(["dns", "stop", "--json"], { home, env: ENV }).stdout), { stopped: false, processes: [] });
});

test.after(() => {
  for (const h of homes) {
    cilo(["dns", "stop"], { home: h, env: ENV });
    // Anything still running on this test's configs was started by this test (its homes are its own).
    for (const p of dnsmasqOf(h)) {
      try {
        process.kill(p.pid, "SIGTERM");
      } catch {
        // gone
      }
    }
    removeDir(h);
  }
});

test.run();
