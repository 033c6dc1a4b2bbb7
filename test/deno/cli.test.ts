// The CLI from source under Deno (`deno run -A src/main.ts`): the same contracts as under Node —
// output, exit codes, one-line errors, state written under the lock — against the real compose CLI.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, ciloAsync, removeDir, tempDir, type CliResult } from "../helpers/cli.ts";
import { useDeno } from "./use-deno.ts";

useDeno();
const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
const home = tempDir("cilo-deno-");
const dnsPort = String(20_000 + Math.floor(Math.random() * 20_000));

function project(name: string): string {
  const dir = join(home, "projects", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "compose.yml"), "services:\n  app:\n    image: cilo-test/busybox:latest\n    command: sleep 3600\n");
  return dir;
}

function assertOneLineError(r: CliResult, code: number, re: RegExp): void {
  assert.is(r.code, code, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.ok(lines.length <= 2, `stderr: ${r.stderr}`);
  assert.match(lines[0]!, /^cilo: /);
  assert.match(lines[0]!, re);
  if (lines[1]) assert.match(lines[1], /^hint: /);
  assert.not.match(r.stderr, /\bat .*:\d+:\d+/, "no stack trace");
}

test("--version, --help and a command's help", () => {
  const v = cilo(["--version"], { home });
  assert.is(v.code, 0, v.stderr);
  assert.is(v.stdout.trim(), `cilo ${pkg.version}`);
  const h = cilo(["--help"], { home });
  assert.is(h.code, 0);
  for (const c of ["init", "create", "up", "status", "destroy", "dns", "run"]) assert.match(h.stdout, new RegExp(`\\b${c}\\b`));
  assert.match(cilo(["create", "--help"], { home }).stdout, /--from <path>/);
});

test("before init: exit 3 and one line saying to run cilo init", () => {
  assertOneLineError(cilo(["list"], { home }), 3, /not initialised/);
});

test("init writes the settings; bad flags exit 2", () => {
  const r = cilo(["init", "--dns-port", dnsPort, "--json"], { home });
  assert.is(r.code, 0, r.stderr);
  assert.is(JSON.parse(r.stdout).config.dns_port, Number(dnsPort));
  assertOneLineError(cilo(["init", "--subnet-pool", "banana"], { home }), 2, /--subnet-pool/);
});

test("create, list, status and destroy an env without starting it", () => {
  const dir = project("smoke");
  const c = cilo(["create", "feat/one", "--from", dir, "--json"], { home });
  assert.is(c.code, 0, c.stderr);
  const env = JSON.parse(c.stdout);
  assert.is(env.name, "feat-one");
  assert.ok(existsSync(join(env.workspace, "compose.yml")), "workspace copied");

  const list = JSON.parse(cilo(["list", "--json"], { home }).stdout);
  assert.equal(
    list.map((e: { project: string; name: string }) => `${e.project}/${e.name}`),
    ["smoke/feat-one"],
  );

  const s = cilo(["status", "smoke/feat-one", "--json"], { home });
  assert.is(s.code, 0, s.stderr);
  const view = JSON.parse(s.stdout);
  assert.is(view.subnet, env.subnet);
  assert.equal(
    view.services.map((x: { name: string; dns: string[] }) => [x.name, x.dns[0]]),
    [["app", "app.feat-one.test"]],
  );

  assert.is(cilo(["destroy", "smoke/feat-one", "--force"], { home }).code, 0);
  assert.equal(JSON.parse(cilo(["list", "--json"], { home }).stdout), []);
  assert.not.ok(existsSync(env.workspace), "workspace removed");
});

test("bad input exits 2 with one line and leaves state alone; CILO_DEBUG=1 adds the stack", () => {
  const dir = project("bad");
  assert.is(cilo(["create", "ok", "--from", dir], { home }).code, 0);
  const before = readFileSync(join(home, "state.json"), "utf8");
  assertOneLineError(cilo(["create", "../x", "--from", dir], { home }), 2, /not valid/);
  assertOneLineError(cilo(["create", "ok", "--from", dir], { home }), 2, /already exists/);
  assertOneLineError(cilo(["frobnicate"], { home }), 2, /Unknown command "frobnicate"/);
  assertOneLineError(cilo(["list", "--format", "xml"], { home }), 2, /--format/);
  assertOneLineError(cilo(["destroy", "nope"], { home }), 2, /No env "nope"/);
  assert.is(readFileSync(join(home, "state.json"), "utf8"), before);
  const debug = cilo(["destroy", "nope"], { home, env: { CILO_DEBUG: "1" } });
  assert.is(debug.code, 2);
  assert.match(debug.stderr, /CiloError/);
  assert.is(cilo(["destroy", "bad/ok", "--force"], { home }).code, 0);
});

test("10 concurrent creates under Deno: all recorded, distinct subnets, no lock or temp file left", async () => {
  const dir = project("race");
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => ciloAsync(["create", `r-${i}`, "--from", dir], { home })));
  assert.equal(
    results.filter((r) => r.code !== 0).map((r) => r.stderr),
    [],
  );
  const envs = JSON.parse(cilo(["list", "--json", "--project", "race"], { home }).stdout) as { subnet: string }[];
  assert.is(envs.length, 10);
  assert.is(new Set(envs.map((e) => e.subnet)).size, 10);
  assert.not.ok(existsSync(join(home, "state.json.lock")));
  assert.equal(
    readdirSync(home).filter((f) => f.endsWith(".tmp")),
    [],
  );
  for (let i = 0; i < 10; i++) assert.is(cilo(["destroy", `race/r-${i}`, "--force"], { home }).code, 0);
});

test("a lock left by a killed process is taken over after the stale timeout", () => {
  const dir = project("stale");
  const killed = cilo(["create", "victim", "--from", dir], { home, env: { CILO_FAILPOINT: "state:locked" } });
  assert.is(killed.code, 128, "the failpoint should have killed the process");
  assert.ok(existsSync(join(home, "state.json.lock")));
  const started = Date.now();
  const next = cilo(["create", "survivor", "--from", dir], { home });
  assert.is(next.code, 0, next.stderr);
  assert.ok(Date.now() - started < 10_000, `waited ${Date.now() - started} ms`);
  assert.is(cilo(["destroy", "stale/survivor", "--force"], { home }).code, 0);
});

test("dns render writes the config for the chosen port", () => {
  const r = cilo(["dns", "render"], { home });
  assert.is(r.code, 0, r.stderr);
  assert.match(readFileSync(join(home, "dns/dnsmasq.conf"), "utf8"), new RegExp(`^port=${dnsPort}$`, "m"));
});

test.after(() => {
  cilo(["dns", "stop"], { home });
  removeDir(home);
});
test.run();
