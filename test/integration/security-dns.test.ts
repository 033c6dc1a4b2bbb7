// Security (DNS config injection): a project's dns_suffix is written into dnsmasq.conf and the
// system resolver's config. One holding newlines must be refused wherever it enters (project
// config, cilo init, a hand-edited state.json) with exit 2 and one line, before any file under
// $CILO_HOME changes. Also: cilo's dnsmasq stops once nothing is left to serve (after the last
// env is destroyed), so throwaway homes leave no root dnsmasq behind. Runs the BUILT dist/cilo.mjs.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, tempDir, type CliResult } from "../helpers/cli.ts";
import { freePort, hashTree } from "../helpers/docker.ts";
import { isProcessAlive } from "../../src/core/proc/processes.ts";
import { plantEnv } from "../helpers/state-files.ts";

const id = Math.random().toString(36).slice(2, 7);
const home = tempDir("cilo-dnsinj-home-");
const work = tempDir("cilo-dnsinj-src-");
const logFile = `/tmp/dnsinj-${id}.log`;
const INJECT = `test/\naddress=/#/6.6.6.6\nlog-facility=${logFile}`;
const confPath = join(home, "dns", "dnsmasq.conf");
const made: string[] = [];

const COMPOSE = 'services:\n  app:\n    image: cilo-test/busybox:latest\n    command: ["sleep", "3600"]\n';
const PROFILED = 'services:\n  app:\n    image: cilo-test/busybox:latest\n    command: ["sleep", "3600"]\n    profiles: ["extra"]\n';

function project(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

function ok(args: string[], opts: { cwd?: string; home?: string } = {}): CliResult {
  const r = cilo(args, { home: opts.home ?? home, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stderr}`);
  return r;
}

/** `cilo: …` on one line (a `hint:` line may follow), the given exit code, no injected line. */
function refusedOneLine(r: CliResult, code: number, re: RegExp): void {
  assert.is(r.code, code, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.ok(lines.length === 1 || (lines.length === 2 && lines[1]!.startsWith("hint: ")), `one line expected:\n${r.stderr}`);
  assert.match(lines[0]!, /^cilo: /);
  assert.match(lines[0]!, re);
  assert.ok(lines[0]!.includes(String.raw`\naddress=/#/6.6.6.6`), `the value is shown JSON-escaped: ${lines[0]}`);
}

/** No file under `dir` holds an injected line, and the log-facility target was never made. */
function noInjection(dir: string): void {
  const walk = (d: string) => {
    for (const n of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, n.name);
      if (n.isDirectory()) walk(p);
      else if (n.isFile()) assert.not.match(readFileSync(p, "utf8"), /^(address=\/#\/|log-facility=)/m, p);
    }
  };
  if (existsSync(dir)) walk(dir);
  assert.not.ok(existsSync(logFile), `dnsmasq wrote ${logFile}`);
}

function dnsmasqPids(): number[] {
  return pidsFor(confPath);
}

/** Alive and not a zombie (a daemonised dnsmasq is reparented to a pid 1 that may not reap). */
const alive = (pid: number) => isProcessAlive(pid);

let port = 0;

test.before(async () => {
  port = await freePort();
  // A pool of its own: other engineers' envs on the shared engine take subnets from the default one.
  ok(["init", "--dns-port", String(port), "--subnet-pool", `10.${100 + Math.floor(Math.random() * 100)}.0.0/16`]);
});

test("cilo create refuses an injected dns_suffix in .cilo/config.yml, in cilo.jsonc, and behind profiles (exit 2, nothing changes)", () => {
  const cases: [string, string][] = [
    [`dnsinj-yml-${id}`, project(`dnsinj-yml-${id}`, { "compose.yml": COMPOSE, ".cilo/config.yml": `dns_suffix: ${JSON.stringify(INJECT)}\n` })],
    [
      `dnsinj-jsonc-${id}`,
      project(`dnsinj-jsonc-${id}`, { "compose.yml": COMPOSE, "cilo.jsonc": `{\n  // injected\n  "dns_suffix": ${JSON.stringify(INJECT)},\n}\n` }),
    ],
    // Every service behind a profile: no service name is checked, only the suffix check stops it.
    [`dnsinj-prof-${id}`, project(`dnsinj-prof-${id}`, { "compose.yml": PROFILED, ".cilo/config.yml": `dns_suffix: ${JSON.stringify(INJECT)}\n` })],
  ];
  for (const [name, dir] of cases) {
    made.push(`${name}/e1`);
    // (compose-cli.json caches which compose CLI this machine has: a cache, not state or DNS)
    const withoutCache = () => {
      const { ["compose-cli.json"]: _cache, ...rest } = hashTree(home);
      return rest;
    };
    const before = withoutCache();
    const r = cilo(["create", "e1", "--from", dir], { home });
    refusedOneLine(r, 2, /dns_suffix.* is not a DNS suffix/);
    assert.equal(withoutCache(), before, `${name}: $CILO_HOME unchanged (state.json included)`);
    // up of the same folder (it creates nothing either)
    const up = cilo(["up", "e1", "--project", name], { home, cwd: dir });
    assert.is.not(up.code, 0, up.stderr);
    assert.equal(withoutCache(), before, `${name}: up changed nothing`);
    noInjection(home);
  }
  assert.not.ok(existsSync(confPath), "dnsmasq.conf was never rendered");
  assert.equal(dnsmasqPids(), []);
});

test("cilo init --dns-suffix with an injected value: exit 2, one line, state.json unchanged", () => {
  const before = hashTree(home);
  refusedOneLine(cilo(["init", "--dns-suffix", INJECT], { home }), 2, /--dns-suffix .* is not a DNS suffix/);
  for (const bad of ["../../etc", "a b", "x#y", "x".repeat(64)]) {
    const r = cilo(["init", "--dns-suffix", bad], { home });
    assert.is(r.code, 2, r.stderr);
    assert.is(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  }
  assert.equal(hashTree(home), before);
});

test("a hand-edited state.json with an injected suffix is refused on read; nothing is rendered or started", () => {
  const h = tempDir("cilo-dnsinj-tamper-");
  made.push(`home:${h}`);
  ok(["init", "--dns-port", String(port)], { home: h });
  const file = join(h, "state.json");
  const conf = join(h, "dns", "dnsmasq.conf");
  const setupRoot = tempDir("cilo-dnsinj-root-");
  made.push(`dir:${setupRoot}`);
  writeFileSync(join(setupRoot, "marker"), "");
  mkdirSync(join(setupRoot, "etc"), { recursive: true });
  writeFileSync(join(setupRoot, "etc/resolv.conf"), "nameserver 127.0.0.53\n");
  const good = readFileSync(file, "utf8");
  const tampers: (() => void)[] = [
    () => {
      const s = JSON.parse(readFileSync(file, "utf8"));
      s.config.dns_suffix = INJECT;
      writeFileSync(file, `${JSON.stringify(s, null, 2)}\n`);
    },
    // An env's own suffix, in its record and its index entry (docs/state.md, "Layout").
    () =>
      plantEnv(h, "dnsinj-t/x", {
        project: "dnsinj-t",
        name: "x",
        status: "running",
        subnet: "10.239.250.0/24",
        workspace: join(h, "envs/dnsinj-t/x"),
        created_at: "2026-01-01T00:00:00.000Z",
        updated_at: "2026-01-01T00:00:00.000Z",
        services: [],
        dns_suffix: INJECT,
      }),
  ];
  for (const tamper of tampers) {
    tamper();
    const before = hashTree(h);
    for (const args of [["dns", "start"], ["dns", "render"], ["dns", "status"], ["list"], ["dns", "setup", "--root", setupRoot]]) {
      const r = cilo(args, { home: h });
      // E_STATE_CORRUPT (exit 1, docs/state.md): the hint names the backup to restore.
      refusedOneLine(r, 1, /The state file .* is corrupt: .*dns_suffix.* is not a DNS suffix/);
      assert.is(r.stdout, "", `cilo ${args.join(" ")} printed ${r.stdout}`);
    }
    assert.equal(hashTree(h), before, "state and dns files unchanged");
    assert.not.ok(existsSync(conf), "nothing rendered");
    assert.equal(readdirSync(setupRoot).sort(), ["etc", "marker"]);
    assert.equal(readdirSync(join(setupRoot, "etc")), ["resolv.conf"]);
    noInjection(h);
    // restore the good state for the next tamper
    writeFileSync(file, good);
    rmSync(join(h, "records"), { recursive: true, force: true });
  }
});

test("the dnsmasq of a home stops once its last env is down or destroyed; cilo dns start still starts it", async () => {
  const name = `dnsinj-life-${id}`;
  const dir = project(name, { "compose.yml": COMPOSE });
  made.push(`${name}/e1`);
  const pidFile = join(home, "dns", "dnsmasq.pid");
  const runningPid = () => {
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : 0;
    return pid > 0 && alive(pid) ? pid : 0;
  };
  ok(["create", "e1", "--from", dir]);
  ok(["up", `${name}/e1`, "--wait", "--timeout", "60s"]);
  const first = runningPid();
  assert.ok(first > 0, "dnsmasq runs while the env does");
  assert.equal(dnsmasqPids(), [first]);

  ok(["down", `${name}/e1`]);
  assert.not.ok(alive(first), "down of the last env stopped dnsmasq");
  assert.equal(dnsmasqPids(), []);

  ok(["up", `${name}/e1`, "--wait", "--timeout", "60s"]);
  const second = runningPid();
  assert.ok(second > 0, "up starts it again");
  ok(["destroy", `${name}/e1`, "--force"]);
  assert.not.ok(alive(second), `dnsmasq ${second} outlived the last env`);
  assert.not.ok(existsSync(pidFile), "pid file removed");
  assert.equal(dnsmasqPids(), []);
  assert.is(JSON.parse(ok(["dns", "status", "--json"]).stdout).running, false);

  // Explicit start serves the (empty) suffix until the next env change or cilo dns stop.
  const started = JSON.parse(ok(["dns", "start", "--json"]).stdout);
  assert.ok(started.pid > 0 && alive(started.pid));
  ok(["dns", "stop"]);
  assert.not.ok(alive(started.pid));
});

test.after(() => {
  for (const m of made) {
    if (m.startsWith("home:")) {
      const h = m.slice(5);
      for (const pid of pidsFor(join(h, "dns", "dnsmasq.conf"))) process.kill(pid, "SIGKILL");
      removeDir(h);
    } else if (m.startsWith("dir:")) removeDir(m.slice(4));
    else cilo(["destroy", m, "--force"], { home });
  }
  for (const pid of dnsmasqPids()) process.kill(pid, "SIGKILL");
  rmSync(logFile, { force: true });
  removeDir(home);
  removeDir(work);
});

function pidsFor(conf: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, "utf8").includes(`--conf-file=${conf}`)) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

test.run();
