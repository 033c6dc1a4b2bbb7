// The env lifecycle against the real Docker engine and docker-compose (issue: lifecycle).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, ciloAsync, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { freePort, hashTree, httpGet, labelled } from "../helpers/docker.ts";
import { pollValue } from "../helpers/until.ts";

const home = tempDir("cilo-life-");
const work = tempDir("cilo-life-src-");
const complex = join(work, "complex");
cpSync(join(repoRoot, "examples/complex"), complex, { recursive: true });
const sourceHash = hashTree(complex);
const suffix = Math.random().toString(36).slice(2, 7);
const A = `a-${suffix}`;
const B = `b-${suffix}`;

function ok(args: string[], opts: { cwd?: string } = {}) {
  const r = cilo(args, { home, ...opts });
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stderr}`);
  return r;
}

function oneLine(r: { code: number; stderr: string }, code: number, re: RegExp) {
  assert.is(r.code, code, r.stderr);
  const lines = r.stderr
    .trimEnd()
    .split("\n")
    .filter((l) => !l.startsWith("cilo: warning"));
  assert.ok(lines.length >= 1 && lines.length <= 2, r.stderr);
  assert.match(lines[0]!, /^cilo: /);
  assert.match(lines[0]!, re);
}

let port = 0;
const dig = (name: string) => execFileSync("dig", ["@127.0.0.1", "-p", String(port), "+short", name], { encoding: "utf8" }).trim();
const digStatus = (name: string) => /status: (\w+)/.exec(execFileSync("dig", ["@127.0.0.1", "-p", String(port), name], { encoding: "utf8" }))?.[1];

test.before(async () => {
  port = await freePort();
  ok(["init", "--dns-port", String(port)]);
});

test("two envs of examples/complex run side by side despite a fixed host port and container_name", async () => {
  ok(["create", A, "--from", complex]);
  ok(["create", B, "--from", complex]);
  const [ra, rb] = await Promise.all([
    ciloAsync(["up", `complex/${A}`, "--wait", "--timeout", "90s"], { home }),
    ciloAsync(["up", `complex/${B}`, "--wait", "--timeout", "90s"], { home }),
  ]);
  assert.is(ra.code, 0, ra.stderr);
  assert.is(rb.code, 0, rb.stderr);
  const sa = JSON.parse(ok(["status", `complex/${A}`, "--json"]).stdout);
  const sb = JSON.parse(ok(["status", `complex/${B}`, "--json"]).stdout);
  for (const [s, env] of [
    [sa, A],
    [sb, B],
  ] as const) {
    assert.is(s.name, env);
    assert.is(s.status, "running");
    assert.equal(
      s.services.map((x: any) => x.name),
      ["api", "web"],
    );
    for (const svc of s.services) {
      assert.is(svc.state, "running", JSON.stringify(svc));
      assert.ok(svc.ip?.startsWith(s.subnet.split(".").slice(0, 3).join(".")), `${svc.ip} in ${s.subnet}`);
      assert.ok(svc.dns.includes(`${svc.name}.${env}.test`));
    }
    assert.is(s.services.find((x: any) => x.name === "api").health, "healthy");
  }
  assert.is.not(sa.subnet, sb.subnet);
  // Each service answers on its own container IP.
  for (const s of [sa, sb]) {
    const web = s.services.find((x: any) => x.name === "web");
    const api = s.services.find((x: any) => x.name === "api");
    const page = await httpGet(`http://${web.ip}/`);
    assert.is(page.status, 200);
    assert.match(page.body, /web talks to http:\/\/api:8080/);
    const health = await httpGet(`http://${api.ip}:8080/health`);
    assert.is(health.body.trim(), "ok");
  }
  // Nothing is published on the host, and no container is called complex-web.
  assert.equal(labelled("container", `cilo.project=complex`, `cilo.env=${A}`).length, 2);
});

test("DNS: service names, apex, wildcard and custom hostnames answer each env's real container IPs", async () => {
  for (const env of [A, B]) {
    const s = JSON.parse(ok(["status", `complex/${env}`, "--json"]).stdout);
    const ip = (svc: string) => s.services.find((x: any) => x.name === svc).ip;
    assert.is(dig(`web.${env}.test`), ip("web"));
    assert.is(dig(`api.${env}.test`), ip("api"));
    assert.is(dig(`complex.${env}.test`), ip("web"), "apex → ingress (web)");
    assert.is(dig(`shop.complex.${env}.test`), ip("web"), "wildcard → ingress");
    assert.is(dig(`backend.${env}.test`), ip("api"), "cilo.hostnames label");
  }
  ok(["hostnames", "add", `complex/${A}`, "api", "orders"]);
  const apiA = JSON.parse(ok(["status", `complex/${A}`, "--json"]).stdout).services.find((x: any) => x.name === "api").ip;
  const answer = await pollValue(
    () => dig(`orders.${A}.test`),
    (a) => a === apiA,
    { timeoutMs: 5_000, stepMs: 250 },
  );
  assert.is(answer, apiA, "custom hostname added with cilo hostnames");
  assert.is(digStatus(`orders.${B}.test`), "NXDOMAIN");
});

test("extends, two files, .env interpolation and env_file give the expected values (exec printenv)", () => {
  const env = ok([
    "exec",
    `complex/${A}`,
    "api",
    "printenv",
    "APP_NAME",
    "LOG_LEVEL",
    "FROM_OVERRIDE",
    "API_PORT",
    "GREETING",
    "DB_URL",
    "FEATURE_FLAGS",
  ]).stdout;
  assert.equal(env.trim().split("\n"), ["complex", "debug", "true", "8080", "hello from complex", "postgres://db.internal:5432/app", "search,export"]);
  assert.is(ok(["exec", `complex/${A}`, "web", "printenv", "API_URL"]).stdout.trim(), "http://api:8080");
});

test("profiles: the debug service starts only with --profile debug", () => {
  assert.not.ok(JSON.parse(ok(["status", `complex/${A}`, "--json"]).stdout).services.some((s: any) => s.name === "debug"));
  ok(["up", `complex/${A}`, "--profile", "debug", "--wait"]);
  const s = JSON.parse(ok(["status", `complex/${A}`, "--json"]).stdout);
  const dbg = s.services.find((x: any) => x.name === "debug");
  assert.ok(dbg, JSON.stringify(s.services));
  assert.is(dbg.state, "running");
  assert.is(ok(["exec", `complex/${A}`, "debug", "printenv", "ROLE"]).stdout.trim(), "debug");
});

test("logs, path and compose pass through", () => {
  assert.is(ok(["path", `complex/${A}`]).stdout.trim(), join(home, "envs", "complex", A));
  const ps = ok(["compose", `complex/${A}`, "--", "ps", "--services"]).stdout;
  assert.match(ps, /api/);
  const logs = cilo(["logs", `complex/${A}`, "api", "--tail", "5"], { home });
  assert.is(logs.code, 0, logs.stderr);
});

test("down stops, up brings it back with volumes intact", async () => {
  ok(["exec", `complex/${B}`, "api", "sh", "-c", "echo kept > /data/marker"]);
  ok(["down", `complex/${B}`]);
  assert.is(JSON.parse(ok(["list", "--json"]).stdout).find((e: any) => e.name === B).status, "stopped");
  assert.equal(labelled("container", `cilo.env=${B}`), []);
  ok(["up", `complex/${B}`, "--wait"]);
  assert.is(ok(["exec", `complex/${B}`, "api", "cat", "/data/marker"]).stdout.trim(), "kept");
});

test("destroy of one env leaves the other running and nothing labelled with it", async () => {
  ok(["destroy", `complex/${B}`, "--force"]);
  for (const name of [`web.${B}.test`, `api.${B}.test`, `complex.${B}.test`, `x.complex.${B}.test`, `backend.${B}.test`]) {
    const status = await pollValue(
      () => digStatus(name),
      (st) => st === "NXDOMAIN",
      { timeoutMs: 5_000, stepMs: 250 },
    );
    assert.is(status, "NXDOMAIN", `${name} after destroy`);
  }
  assert.ok(dig(`web.${A}.test`), "the other env still answers");
  assert.equal(labelled("container", "cilo.project=complex", `cilo.env=${B}`), []);
  assert.equal(labelled("network", "cilo.project=complex", `cilo.env=${B}`), []);
  assert.equal(labelled("volume", "cilo.project=complex", `cilo.env=${B}`), []);
  assert.not.ok(existsSync(join(home, "envs", "complex", B)));
  const sa = JSON.parse(ok(["status", `complex/${A}`, "--json"]).stdout);
  assert.ok(sa.services.every((s: any) => s.state === "running"));
  const web = sa.services.find((x: any) => x.name === "web");
  assert.is((await httpGet(`http://${web.ip}/`)).status, 200);
  ok(["destroy", `complex/${A}`, "--force"]);
  assert.equal(labelled("container", "cilo.project=complex", `cilo.env=${A}`), []);
  assert.equal(labelled("network", `cilo.env=${A}`), []);
  assert.equal(labelled("volume", `cilo.env=${A}`), []);
  assert.equal(JSON.parse(ok(["list", "--json"]).stdout), []);
});

test("the source folder is byte-identical after create/up/down/destroy", () => {
  assert.equal(hashTree(complex), sourceHash);
});

test("bad input: one clear line, right exit code, nothing half-created", () => {
  const before = readFileSync(join(home, "state.json"), "utf8");
  const empty = join(work, "empty");
  mkdirSync(empty);
  oneLine(cilo(["create", "x", "--from", empty], { home }), 2, /No compose file/);
  const broken = join(work, "broken");
  mkdirSync(broken);
  writeFileSync(join(broken, "compose.yml"), "services:\n  api:\n    image: [unclosed\n");
  oneLine(cilo(["create", "x", "--from", broken], { home }), 2, /invalid/i);
  const badkey = join(work, "badkey");
  mkdirSync(badkey);
  writeFileSync(join(badkey, "compose.yml"), "services:\n  api:\n    image: cilo-test/busybox:latest\n    frobnicate: 1\n");
  oneLine(cilo(["create", "x", "--from", badkey], { home }), 2, /invalid/i);
  oneLine(cilo(["create", "x", "--from", join(work, "does-not-exist")], { home }), 2, /does not exist/);
  oneLine(cilo(["up", "nope"], { home }), 2, /No env "nope"/);
  oneLine(cilo(["status", "nope"], { home }), 2, /No env "nope"/);
  assert.is(readFileSync(join(home, "state.json"), "utf8"), before);
  assert.equal(labelled("container", "cilo.env=x"), []);
  assert.not.ok(existsSync(join(home, "envs", "broken", "x")));
  assert.not.ok(existsSync(join(home, "envs", "badkey", "x")));
  ok(["create", `c-${suffix}`, "--from", complex]);
  oneLine(cilo(["exec", `complex/c-${suffix}`, "nosuch", "true"], { home }), 2, /no service "nosuch"/);
  oneLine(cilo(["logs", `complex/c-${suffix}`, "nosuch"], { home }), 2, /no service "nosuch"/);
  oneLine(cilo(["up", `complex/c-${suffix}`], { home, env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" } }), 3, /Docker engine .* does not answer/);
  // A plain `up` line starts compose before the parser loads (cli/early-start.ts): a bad value the
  // command finds after is the same one line, and that compose is killed unfed (cilo would else
  // wait on it until the helper's timeout), having made nothing.
  const late = cilo(["up", `complex/c-${suffix}`, "--timeout", "soon"], { home, env: { CILO_TIMINGS: "1" }, timeoutMs: 30_000 });
  assert.match(late.stderr, /timing \d+ ms up: compose started before the parser loaded/);
  oneLine({ code: late.code, stderr: late.stderr.replace(/^cilo: timing .*\n/gm, "") }, 2, /--timeout "soon" is not a duration/);
  assert.equal(labelled("container", `cilo.env=c-${suffix}`), []);
  ok(["destroy", `complex/c-${suffix}`, "--force"]);
});

test("a failed up leaves the env recorded as failed, and destroy still cleans it", () => {
  const proj = join(work, "failing");
  mkdirSync(proj);
  writeFileSync(
    join(proj, "compose.yml"),
    "services:\n  ok:\n    image: cilo-test/busybox:latest\n    command: sleep 600\n  bad:\n    image: cilo-test/no-such-image:never\n",
  );
  ok(["create", `f-${suffix}`, "--from", proj]);
  const r = cilo(["up", `failing/f-${suffix}`], { home });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /^cilo: Starting failing\/f-/);
  const rec = JSON.parse(ok(["list", "--json"]).stdout).find((e: any) => e.name === `f-${suffix}`);
  assert.is(rec.status, "failed");
  ok(["destroy", `failing/f-${suffix}`, "--force"]);
  assert.equal(labelled("container", `cilo.env=f-${suffix}`), []);
  assert.equal(labelled("network", `cilo.env=f-${suffix}`), []);
  assert.not.ok(existsSync(join(home, "envs", "failing", `f-${suffix}`)));
});

test.after(() => {
  for (const env of [A, B, `c-${suffix}`, `f-${suffix}`]) cilo(["destroy", env, "--force"], { home });
  cilo(["dns", "stop"], { home });
  removeDir(home);
  removeDir(work);
});
test.run();
