// Faults of the machine or of the user's set-up: state must not change when nothing ran, real
// faults are named in clear words, and a user-fixed IPAM subnet does not stop a second env.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, tempDir } from "../helpers/cli.ts";
import { freePort, httpGet, labelled } from "../helpers/docker.ts";
import { stateEnvs } from "../helpers/state-files.ts";

const home = tempDir("secflt-home-");
const work = tempDir("secflt-src-");
const suffix = Math.random().toString(36).slice(2, 7);
const project = `secflt-${suffix}`;
const UP = `secflt-up-${suffix}`;
const made: string[] = [];
// A pool of this run's own: other tests on this engine allocate from the default 10.224.0.0/12 in
// homes of their own, and could take the same subnet between our allocation and compose up.
const poolOctet = 150 + Math.floor(Math.random() * 50);
const pool = `10.${poolOctet}.0.0/16`;

function ok(args: string[], opts: { home?: string; env?: Record<string, string> } = {}) {
  const r = cilo(args, { home: opts.home ?? home, ...(opts.env ? { env: opts.env } : {}) });
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stderr}`);
  return r;
}

/** stderr without warnings: one `cilo:` line, at most one `hint:` line. */
function oneLine(r: { code: number; stderr: string }, code: number, re: RegExp): string {
  assert.is(r.code, code, r.stderr);
  const lines = r.stderr
    .trimEnd()
    .split("\n")
    .filter((l) => !l.startsWith("cilo: warning"));
  assert.ok(lines.length >= 1 && lines.length <= 2, r.stderr);
  assert.match(lines[0]!, /^cilo: /);
  assert.match(lines[0]!, re);
  if (lines[1] !== undefined) assert.match(lines[1], /^hint: /);
  assert.not.match(r.stderr, /bug in cilo/);
  return lines[0]!;
}

function projectDir(name: string, compose: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "compose.yml"), compose);
  return dir;
}

const entry = (h: string, env: string) => stateEnvs(h)[`${project}/${env}`];

let port = 0;
const dig = (name: string) => execFileSync("dig", ["@127.0.0.1", "-p", String(port), "+short", name], { encoding: "utf8" }).trim();

function running(env: string): boolean[] {
  const ids = labelled("container", `cilo.project=${project}`, `cilo.env=${env}`);
  return ids.map((id) => execFileSync("docker", ["inspect", "-f", "{{.State.Running}}", id], { encoding: "utf8" }).trim() === "true");
}

test.before(async () => {
  port = await freePort();
  ok(["init", "--dns-port", String(port), "--subnet-pool", pool]);
});

test("an up that fails before compose runs leaves a running env's state, DNS and containers as they were", async () => {
  const dir = projectDir("up", "services:\n  app:\n    image: cilo-test/busybox:latest\n    command: sleep 3600\n");
  made.push(UP);
  ok(["create", UP, "--from", dir, "--project", project]);
  ok(["up", `${project}/${UP}`, "--wait", "--timeout", "60s"]);
  const before = entry(home, UP);
  assert.is(before.status, "running");
  const ip = before.services.find((s: any) => s.name === "app").ip;
  assert.ok(ip, JSON.stringify(before));
  assert.is(dig(`app.${UP}.test`), ip);

  const checkUnchanged = (what: string) => {
    assert.equal(entry(home, UP), before, `${what}: the state entry changed`);
    ok(["dns", "start"]); // a DNS sync from state
    assert.is(dig(`app.${UP}.test`), ip, `${what}: DNS dropped the env's name`);
    assert.equal(running(UP), [true], `${what}: containers`);
  };

  // An unusable compose CLI: exit 3 before anything is recorded.
  oneLine(cilo(["up", `${project}/${UP}`], { home, env: { CILO_COMPOSE: "nope" } }), 3, /CILO_COMPOSE/);
  checkUnchanged("CILO_COMPOSE=nope");

  // A compose file the transform refuses (network_mode: host): exit 2 after the env was marked
  // starting, before compose ran; its previous record comes back.
  const ws = join(home, "envs", project, UP, "compose.yml");
  const good = readFileSync(ws, "utf8");
  writeFileSync(ws, `${good}    network_mode: host\n`);
  try {
    oneLine(cilo(["up", `${project}/${UP}`], { home }), 2, /network_mode: host/);
  } finally {
    writeFileSync(ws, good);
  }
  checkUnchanged("network_mode: host");

  ok(["destroy", `${project}/${UP}`, "--force"]);
});

test("a full disk under CILO_HOME: create exits 1 with one line saying what is full, state.json byte-identical", () => {
  if (process.getuid?.() !== 0) {
    if (process.env["CI"] === "true") assert.unreachable("this test needs root (mount -t tmpfs) and CI runs as root");
    console.log("skipped: needs root to mount a tmpfs");
    return;
  }
  const full = tempDir("secflt-full-");
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", full]);
  try {
    ok(["init", "--dns-port", String(port)], { home: full });
    // Fill the file system to the last block.
    try {
      execFileSync("dd", ["if=/dev/zero", `of=${join(full, "fill")}`, "bs=4096"], { stdio: "ignore" });
    } catch {
      // dd ends with "No space left on device", as intended
    }
    const stateBefore = readFileSync(join(full, "state.json"));
    const dir = projectDir("full", "services:\n  app:\n    image: cilo-test/busybox:latest\n    command: sleep 3600\n");
    const r = cilo(["create", `secflt-full-${suffix}`, "--from", dir, "--project", project], { home: full });
    const line = oneLine(r, 1, /full/);
    // The first file a create writes is its env's record (records/<project>/, before the index names it).
    const root = full.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    assert.match(
      line,
      new RegExp(`Cannot write ${root}/(state\\.json|records/${project}(/secflt-full-${suffix}\\.json)?): the disk holding it is full \\(ENOSPC\\)`),
    );
    assert.match(r.stderr, /hint: Free space/);
    assert.ok(readFileSync(join(full, "state.json")).equals(stateBefore), "state.json changed");
  } finally {
    execFileSync("umount", [full]);
    removeDir(full);
  }
});

test("a network with a fixed ipam subnet: two envs both come up, each with its own subnet from the pool", async () => {
  const octet = 100 + Math.floor(Math.random() * 150);
  const fixed = `172.28.${octet}.0/24`;
  const dir = projectDir(
    "ipam",
    [
      "services:",
      "  web:",
      "    image: cilo-test/busybox:latest",
      `    command: ["sh", "-c", "echo ok > /www/index.html && httpd -f -p 80 -h /www"]`,
      "    networks:",
      "      default: {}",
      "      back:",
      `        ipv4_address: 172.28.${octet}.10`,
      "networks:",
      "  back:",
      "    ipam:",
      "      config:",
      `        - subnet: ${fixed}`,
      "",
    ].join("\n"),
  );
  const envs = [`secflt-ipam1-${suffix}`, `secflt-ipam2-${suffix}`];
  made.push(...envs);
  const seen: string[] = [];
  for (const env of envs) {
    ok(["create", env, "--from", dir, "--project", project]);
    ok(["up", `${project}/${env}`, "--wait", "--timeout", "60s"]); // the second failed with "Pool overlaps"
  }
  for (const env of envs) {
    const s = JSON.parse(ok(["status", `${project}/${env}`, "--json"]).stdout);
    const back = s.extra_subnets.back as string;
    assert.ok(back, JSON.stringify(s));
    assert.match(back, new RegExp(`^10\\.${poolOctet}\\.\\d+\\.0/24$`), `${back} lies in the pool ${pool}`);
    assert.is.not(back, s.subnet);
    assert.equal(entry(home, env).extra_subnets, { back });
    // Docker's networks of the env: its own and the re-addressed one.
    const nets = labelled("network", `cilo.project=${project}`, `cilo.env=${env}`);
    const subnets = nets
      .map((id) => execFileSync("docker", ["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", id], { encoding: "utf8" }).trim())
      .sort();
    assert.equal(subnets, [s.subnet, back].sort());
    // The service answers on the env network and at its fixed address, moved into the new subnet.
    const web = s.services.find((x: any) => x.name === "web");
    assert.is((await httpGet(`http://${web.ip}/`)).body.trim(), "ok");
    const moved = back.replace(/0\/24$/, "10");
    assert.is((await httpGet(`http://${moved}/`)).body.trim(), "ok");
    seen.push(back);
  }
  assert.is.not(seen[0], seen[1]);
  for (const env of envs) {
    ok(["destroy", `${project}/${env}`, "--force"]);
    assert.equal(labelled("network", `cilo.env=${env}`), []);
  }
  assert.not.ok(JSON.stringify(stateEnvs(home)).includes("extra_subnets"), "released at destroy");
});

test.after(() => {
  for (const env of made) cilo(["destroy", `${project}/${env}`, "--force"], { home });
  cilo(["dns", "stop"], { home });
  removeDir(home);
  removeDir(work);
});
test.run();
