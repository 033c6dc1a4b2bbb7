// End to end with cilo running under Deno, against the real Docker engine, compose CLI and
// dnsmasq: examples/basic created, started, answered by DNS and destroyed, by commands and by a
// workflow; a workflow interrupted by SIGINT still runs its clean-up step and exits 130.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, ciloCommand, repoRoot, removeDir, tempDir } from "../helpers/cli.ts";
import { labelled } from "../helpers/docker.ts";
import { useDeno } from "./use-deno.ts";

useDeno();
const home = tempDir("cilo-deno-e2e-");
const dnsPort = 20_000 + Math.floor(Math.random() * 20_000);
const suffix = Math.random().toString(16).slice(2, 8);
const basic = join(repoRoot, "examples/basic");

function dig(name: string, opts: { serverMayBeGone?: boolean } = {}): string {
  const r = spawnSync("dig", ["@127.0.0.1", "-p", String(dnsPort), name, "+short", "+tries=3", "+time=1"], { encoding: "utf8" });
  // dig exits 9 when no server answers: cilo stops its dnsmasq once no env is left to serve.
  if (opts.serverMayBeGone && r.status === 9) return "";
  assert.is(r.status, 0, r.stderr);
  return r.stdout.trim();
}

function assertGone(env: string): void {
  assert.equal(labelled("container", `cilo.env=${env}`), [], "containers left");
  assert.equal(labelled("network", `cilo.env=${env}`), [], "networks left");
}

test.before(() => {
  const r = cilo(["init", "--dns-port", String(dnsPort)], { home });
  assert.is(r.code, 0, r.stderr);
});

test("create, up --wait, status, DNS answer, destroy", () => {
  const env = `deno-${suffix}`;
  try {
    assert.is(cilo(["create", env, "--from", basic], { home }).code, 0);
    const up = cilo(["up", `basic/${env}`, "--wait", "--timeout", "2m"], { home });
    assert.is(up.code, 0, up.stderr);
    const view = JSON.parse(cilo(["status", `basic/${env}`, "--json"], { home }).stdout);
    assert.is(view.status, "running");
    const byName = Object.fromEntries(view.services.map((s: { name: string }) => [s.name, s])) as Record<
      string,
      { state: string; health: string | null; ip: string }
    >;
    assert.equal(Object.keys(byName).sort(), ["api", "cache", "web"]);
    for (const s of Object.values(byName)) assert.is(s.state, "running");
    assert.is(byName["api"]!.health, "healthy");
    assert.is(dig(`api.${env}.test`), byName["api"]!.ip);
    assert.is(dig(`web.${env}.test`), byName["web"]!.ip);
    assert.is(dig(`basic.${env}.test`), byName["web"]!.ip, "the project name answers with the ingress (web)");
    const d = cilo(["destroy", `basic/${env}`, "--force"], { home });
    assert.is(d.code, 0, d.stderr);
    assertGone(env);
    assert.is(dig(`api.${env}.test`, { serverMayBeGone: true }), "");
  } finally {
    cilo(["destroy", `basic/${env}`, "--force"], { home });
  }
});

test("a workflow: create, up, wait, dig against cilo's dnsmasq, destroy", () => {
  const env = `deno-wf-${suffix}`;
  const dir = tempDir("cilo-deno-wf-");
  try {
    const file = join(dir, "cilo.workflow.yaml");
    writeFileSync(
      file,
      [
        "version: 1",
        "name: deno-e2e",
        "steps:",
        `  - clone: { from: ${JSON.stringify(basic)} }`,
        `  - create: { env: ${env} }`,
        "  - up: {}",
        "  - wait: { healthy: [api], timeout: 90s }",
        "  - id: dns",
        "    run: |",
        '      ip=$(dig @127.0.0.1 -p "$CILO_DNS_PORT" +short "api.$CILO_ENV.$CILO_DNS_SUFFIX")',
        '      test -n "$ip" && echo "ip=$ip" >> "$CILO_OUTPUT"',
        '  - exec: { service: web, command: "wget -q -O - http://api:8080/items.json | grep -q alpha" }',
        "  - destroy: {}",
        "    if: always()",
        "",
      ].join("\n"),
    );
    const outputs = join(dir, "outputs");
    const r = cilo(["run", file, "--outputs-file", outputs], { home });
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.match(readFileSync(outputs, "utf8"), /^dns_ip=10\.\d+\.\d+\.\d+$/m);
    assertGone(env);
    assert.equal(JSON.parse(cilo(["list", "--json"], { home }).stdout), []);
  } finally {
    cilo(["destroy", `basic/${env}`, "--force"], { home });
    removeDir(dir);
  }
});

test("SIGINT stops a workflow's running step, its always() clean-up still runs, exit 130", async () => {
  const env = `deno-int-${suffix}`;
  const dir = tempDir("cilo-deno-int-");
  try {
    const file = join(dir, "wf.yaml");
    writeFileSync(
      file,
      `version: 1\nname: interrupted\nsteps:\n  - clone: { from: ${JSON.stringify(basic)} }\n  - create: { env: ${env} }\n  - up: {}\n  - id: long\n    run: echo started; sleep 120\n  - destroy: {}\n    if: always()\n`,
    );
    const [cmd, ...pre] = ciloCommand();
    const child = spawn(cmd!, [...pre, "run", file], { env: { ...process.env, CILO_HOME: home, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
    const deadline = Date.now() + 180_000;
    while (!/\| started/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.match(out, /\| started/, out);
    // Not child.kill(): after it, Deno's node:child_process reports the signal, not the exit code.
    process.kill(child.pid!, "SIGINT");
    const code = await closed;
    assert.is(code, 130, out);
    assert.match(out, /interrupted by SIGINT/);
    assertGone(env);
    assert.equal(JSON.parse(cilo(["list", "--json"], { home }).stdout), []);
  } finally {
    cilo(["destroy", `basic/${env}`, "--force"], { home });
    removeDir(dir);
  }
});

test.after(() => {
  cilo(["dns", "stop"], { home });
  removeDir(home);
});
test.run();
