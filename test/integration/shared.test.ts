// Shared resources between envs (SPEC §8): one database for ten envs, lifecycle protection,
// exactly-once start under concurrency, grace period, and envs joining another env's network.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, ciloAsync, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { freePort, httpGet, labelled, watchDockerEvents } from "../helpers/docker.ts";
import { stateDoc } from "../helpers/state-files.ts";
import { until } from "../helpers/until.ts";
import { sharedDockerName } from "../../src/core/labels.ts";

const home = tempDir("cilo-shared-");
const work = tempDir("cilo-shared-src-");
const project = join(work, "shared");
cpSync(join(repoRoot, "examples/shared"), project, { recursive: true });
const tag = Math.random().toString(36).slice(2, 6);
// A project name of its own, so leftovers of another run on this engine cannot interfere.
const P = `shared-${tag}`;
const envs = Array.from({ length: 10 }, (_, i) => `s${i}-${tag}`);
const GRACE_MS = 3000;
const env = { CILO_SHARED_GRACE_MS: String(GRACE_MS) };
let port = 0;

function ok(args: string[]) {
  const r = cilo(args, { home, env });
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stderr}`);
  return r;
}

const dig = (name: string) => execFileSync("dig", ["@127.0.0.1", "-p", String(port), "+short", name], { encoding: "utf8" }).trim();
const sharedDb = () => labelled("container", `cilo.project=${P}`, "cilo.shared=true", "cilo.service=db");

test.before(async () => {
  port = await freePort();
  ok(["init", "--dns-port", String(port)]);
});

test("10 envs coming up at once share one database container, started exactly once", async () => {
  const created = await Promise.all(envs.map((e) => ciloAsync(["create", e, "--from", project, "--project", P], { home, env })));
  assert.ok(
    created.every((r) => r.code === 0),
    created.map((r) => r.stderr).join(""),
  );
  // Every shared container of this project created while the envs come up, watched live.
  const watcher = await watchDockerEvents(
    (e) => e.Type === "container" && e.Action === "create" && e.Actor.Attributes["cilo.shared"] === "true" && e.Actor.Attributes["cilo.project"] === P,
  );
  const ups = await Promise.all(envs.map((e) => ciloAsync(["up", `${P}/${e}`, "--wait", "--timeout", "3m"], { home, env })));
  // One name per container id: Podman 4.3's event stream may send a container's events twice (the
  // same id, the same time); a second container would have an id of its own.
  const creates = [...new Map((await watcher.stop()).map((e) => [e.Actor.ID, e.Actor.Attributes["name"]])).values()];
  assert.ok(
    ups.every((r) => r.code === 0),
    ups.map((r) => r.stderr).join(""),
  );
  console.log(`shared db containers created during 10 concurrent ups: ${creates.length} (${creates.join(", ")})`);
  assert.is(creates.length, 1);
  assert.is(sharedDb().length, 1);
  // Each env has its own app, and no db of its own.
  for (const e of envs) {
    assert.is(labelled("container", `cilo.env=${e}`, "cilo.service=app").length, 1);
    assert.is(labelled("container", `cilo.env=${e}`, "cilo.service=db").length, 0);
  }
});

test("each env reaches the shared db as db.<env>.test and as db from its app", async () => {
  const ips = new Set<string>();
  for (const e of envs) {
    const s = JSON.parse(ok(["status", `${P}/${e}`, "--json"]).stdout);
    const db = s.services.find((x: any) => x.name === "db");
    assert.is(db.sharing, "shared");
    assert.is(db.state, "running");
    assert.ok(db.dns.includes(`db.${e}.test`));
    const ip = dig(`db.${e}.test`);
    assert.is(ip, db.ip);
    ips.add(ip);
    assert.is((await httpGet(`http://${ip}:5432/`)).body.trim(), "the shared db");
    assert.is(ok(["exec", `${P}/${e}`, "app", "wget", "-q", "-O", "-", "http://db:5432/"]).stdout.trim(), "the shared db");
  }
  assert.is(ips.size, 1, "one database answers for every env");
  const list = JSON.parse(ok(["list", "--json"]).stdout);
  assert.ok(list.every((e: any) => e.shared_services.includes("db")));
  // doctor knows sharing: a db the shared instance provides is not a service "with no container".
  const doctor = cilo(["doctor", "--json"], { home, env });
  const findings = JSON.parse(doctor.stdout).findings as { id: string; message: string }[];
  assert.equal(
    findings.filter((f) => f.id.startsWith("env-service") || f.id.startsWith("shared-")),
    [],
    doctor.stdout,
  );
});

test("stopping the shared service while in use is refused, naming the envs", () => {
  const r = cilo(["shared", "down", "db", "--project", P], { home, env });
  assert.is(r.code, 1, r.stderr);
  for (const e of envs) assert.match(r.stderr, e);
  assert.match(r.stderr, /in use by 10 env/);
  assert.is(sharedDb().length, 1);
  const shared = JSON.parse(ok(["shared", "list", "--json"]).stdout);
  assert.equal(shared.services[0].users, [...envs].sort());
});

test("--isolate gives one env a private db while the others keep sharing", () => {
  const e = envs[0]!;
  ok(["up", `${P}/${e}`, "--isolate", "db", "--wait"]);
  assert.is(labelled("container", `cilo.env=${e}`, "cilo.service=db").length, 1);
  const s = JSON.parse(ok(["status", `${P}/${e}`, "--json"]).stdout);
  assert.is(s.services.find((x: any) => x.name === "db").sharing, "isolated");
  const users = JSON.parse(ok(["shared", "list", "--json"]).stdout).services[0].users;
  assert.not.ok(users.includes(e));
  assert.is(users.length, 9);
});

test("after the last env is destroyed the shared service goes after the grace period", async () => {
  await Promise.all(envs.map((e) => ciloAsync(["destroy", `${P}/${e}`, "--force"], { home, env })));
  const leftAt = Date.now();
  assert.is(sharedDb().length, 1, "still there during the grace period");
  await until("the shared db to go", () => sharedDb().length === 0, { timeoutMs: GRACE_MS + 30_000, stepMs: 250 });
  const goneAfter = Date.now() - leftAt;
  // The state entry goes last, after the network and volumes.
  await until("the shared instance to leave the state", () => JSON.parse(ok(["shared", "list", "--json"]).stdout).services.length === 0, {
    timeoutMs: 30_000,
    stepMs: 250,
  });
  console.log(`shared db removed ${goneAfter} ms after the last env left (grace ${GRACE_MS} ms)`);
  assert.ok(goneAfter >= GRACE_MS, `gone after ${goneAfter} ms`);
  assert.equal(labelled("network", "cilo.shared=true", `cilo.project=${P}`), []);
  assert.equal(labelled("volume", "cilo.shared=true", `cilo.project=${P}`), []);
});

test("an env can join another env's network; the owner is protected while it is joined", async () => {
  const dbDir = join(work, "dbenv");
  mkdirSync(dbDir);
  writeFileSync(join(dbDir, "compose.yml"), "services:\n  postgres:\n    image: cilo-test/busybox:latest\n    command: [httpd, -f, -p, '5432', -h, /www]\n");
  const frontDir = join(work, "front");
  mkdirSync(frontDir);
  writeFileSync(join(frontDir, "compose.yml"), "services:\n  web:\n    image: cilo-test/busybox:latest\n    command: [sleep, '600']\n");
  ok(["create", "db", "--from", dbDir, "--project", "data"]);
  ok(["up", "data/db", "--wait"]);
  ok(["create", "f1", "--from", frontDir, "--project", "front", "--shared-network", "data/db"]);
  ok(["up", "front/f1", "--wait"]);
  assert.is(ok(["exec", "front/f1", "web", "wget", "-q", "-O", "-", "http://postgres:5432/"]).stdout.trim(), "hello from cilo-test");
  const owner = JSON.parse(ok(["status", "data/db", "--json"]).stdout);
  assert.equal(owner.dependants, ["front/f1"]);
  const refused = cilo(["down", "data/db"], { home, env });
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /front\/f1/);
  const refused2 = cilo(["destroy", "data/db"], { home, env, input: "" });
  assert.is(refused2.code, 1);
  assert.match(refused2.stderr, /join its network: front\/f1/);
  ok(["destroy", "data/db", "--force"]);
  const f1 = JSON.parse(ok(["list", "--json"]).stdout).find((e: any) => e.name === "f1");
  assert.equal(f1.shared_networks, []);
  assert.is(JSON.parse(ok(["status", "front/f1", "--json"]).stdout).services[0].state, "running");
  ok(["destroy", "front/f1", "--force"]);
});

test("a shared instance whose subnet another program took before compose made its network gets another one", async () => {
  // Two homes on one engine share no lock: between this home picking the instance's subnet and
  // compose making its network, another program makes a network on that subnet (the failpoint
  // holds up right there, and the test plays the other program).
  const P2 = `race-${tag}`;
  ok(["create", "r1", "--from", project, "--project", P2]);
  const gate = join(work, "race-gate");
  const foreign = `cilo-test-foreign-${tag}`;
  const up = ciloAsync(["up", `${P2}/r1`, "--wait"], { home, env: { ...env, CILO_FAILPOINT: `shared:before-compose@pause:${gate}` } });
  try {
    await until("up to stop before compose", () => existsSync(`${gate}.waiting`), { timeoutMs: 60_000, stepMs: 100 });
    const taken = stateDoc(home).shared[P2].subnet;
    execFileSync("docker", ["network", "create", "--subnet", taken, "--label", `cilo-test=${tag}`, foreign]);
    writeFileSync(gate, "");
    const r = await up;
    assert.is(r.code, 0, r.stderr);
    const picked = stateDoc(home).shared[P2].subnet;
    assert.is.not(picked, taken);
    const network = sharedDockerName(stateDoc(home).home_id, P2);
    const onEngine = execFileSync("docker", ["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", network], { encoding: "utf8" }).trim();
    assert.is(onEngine, picked);
    assert.is(ok(["exec", `${P2}/r1`, "app", "wget", "-q", "-O", "-", "http://db:5432/"]).stdout.trim(), "the shared db");
    console.log(`shared instance: ${taken} was taken by another network before compose ran; up picked ${picked}`);
  } finally {
    writeFileSync(gate, "");
    await up;
    cilo(["destroy", `${P2}/r1`, "--force"], { home, env });
    cilo(["__shared-gc", P2, "0"], { home, env: { CILO_SHARED_GRACE_MS: "0" } });
    spawnSync("docker", ["network", "rm", foreign]);
  }
});

test.after(() => {
  for (const e of envs) cilo(["destroy", `${P}/${e}`, "--force"], { home, env });
  cilo(["destroy", "data/db", "--force"], { home, env });
  cilo(["destroy", "front/f1", "--force"], { home, env });
  cilo(["__shared-gc", P, "0"], { home, env: { CILO_SHARED_GRACE_MS: "0" } });
  cilo(["dns", "stop"], { home });
  removeDir(home);
  removeDir(work);
});
test.run();
