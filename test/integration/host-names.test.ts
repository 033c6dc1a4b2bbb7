// Names of envs on a host (issue 17 items 4 and 5, docs/remote.md "Names of remote envs") against
// the real test bed: the second engine `cilo-e2` in its network namespace, reached over
// ssh://root@10.213.77.2 (scripts/test-remote.sh). This machine's engine runs the gateway (the
// offline Caddy image); the env's containers run on the remote engine, whose container IPs this
// machine cannot route to. Proven by name and loopback port only:
// - HTTP by name: curl http://web.<env>.<project>.localhost:<gateway port>/ gets the remote page,
//   through this machine's gateway and the env's ssh forward;
// - a TCP forward (127.0.0.1:<port>, CILO_ADDR_*) reaches a remote TCP echo service;
// - status says "via ssh forward"; down releases the forward (process, sockets, port), up takes
//   the same port again, destroy leaves nothing;
// - the namespace's link cut (`ip link set ciloe2h down`, restored in a finally, a few seconds):
//   with an unreachable route to the host that other tests' idempotent bed set-up cannot undo;
//   a command on the env is exit 3 with one line naming the host and the check, state.json and the
//   record files byte for byte as before; restored, `doctor --fix` exits 0 and the names answer.
// ssh goes through a wrapper of this test (the bed's config, its own ControlPath and a 3 s
// connect timeout), so the cut fails new connections fast and leaves the bed's shared master alone.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ciloRunner, removeDir, tempDir } from "../helpers/cli.ts";
import { curlGet, GATEWAY_TEST_ENV, gatewayIds, getByName, initGatewayHome, removeGateways } from "../helpers/gateway.ts";
import { BED_ADDR as HOST_ADDR, BED_SSH as SSH, echoLine, startRemoteBed, writeWebEchoProject } from "../helpers/remote-bed.ts";
import { pollValue } from "../helpers/until.ts";

/** The host side of the bed's veth (scripts/test-second-engine.sh: `${NAME//-/}h`). */
const LINK = "ciloe2h";
const home = tempDir("cilo-hostnames-");
const work = tempDir("cilo-hostnames-src-");
const suffix = Math.random().toString(36).slice(2, 7);
const project = `hn-${suffix}`;
const src = join(work, project);
const bin = join(work, "bin");
const ROOT = `/srv/cilo-remote-names-${process.pid}`;
const env = {
  ...GATEWAY_TEST_ENV,
  PATH: `${bin}:${process.env["PATH"]}`,
  DOCKER_CONTEXT: "",
  CILO_HELPER_IMAGE: "cilo-test/busybox:latest",
};
let gwPort = 0;
let dnsPort = 0;

const { run, ok } = ciloRunner({ home, cwd: src, env, timeoutMs: 240_000 });
const web = () => getByName(`web.n1.${project}.localhost`, gwPort);
const statusJson = () => JSON.parse(ok(["status", "n1", "--json"]).stdout);
/** Whether the process runs: it exists and is not a zombie (an exited ssh waits for this machine's init to reap it). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0]!);
  } catch {
    return false;
  }
};

/** Sends a line to the echo service's forward on 127.0.0.1:port (`echoLine`). */
const echo = (port: number, line: string, ms?: number) => echoLine("127.0.0.1", port, line, ms);

/** state.json and every record file, by path: what a refused command must leave byte for byte. */
function stateFiles(): Map<string, string> {
  const out = new Map<string, string>([["state.json", readFileSync(join(home, "state.json"), "utf8")]]);
  const walk = (dir: string) => {
    for (const n of readdirSync(dir)) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(p.slice(home.length + 1), readFileSync(p, "utf8"));
    }
  };
  walk(join(home, "records"));
  return out;
}

test.before(async () => {
  startRemoteBed();
  mkdirSync(bin, { recursive: true });
  // The bed's config behind a control connection of this test's own (in a config file, so that
  // cilo's own -o ControlPath=none for the ssh forward still wins); new connections give up after 3 s.
  writeFileSync(join(work, "ssh_config"), `Host *\n  ControlPath ${work}/cm-%C\nInclude /run/cilo-test-remote/ssh_config\n`);
  writeFileSync(join(bin, "ssh"), `#!/bin/sh\nexec /usr/bin/ssh -o ConnectTimeout=3 -F ${work}/ssh_config "$@"\n`);
  chmodSync(join(bin, "ssh"), 0o755);
  writeWebEchoProject(src, `page of ${project} on r1\n`);
  ({ gwPort, dnsPort } = await initGatewayHome(ok));
  ok(["host", "add", "r1", SSH, "--remote-root", ROOT]);
  ok(["create", "n1", "--on", "r1"]);
});

test.after(() => {
  spawnSync("ip", ["route", "del", "unreachable", `${HOST_ADDR}/32`]);
  spawnSync("ip", ["link", "set", LINK, "up"]);
  run(["destroy", "n1", "--force"]);
  removeGateways(home);
  spawnSync(join(bin, "ssh"), ["-O", "exit", "10.213.77.2"]);
  removeDir(home);
  removeDir(work);
  rmSync(ROOT, { recursive: true, force: true });
});

test("up: HTTP by name reaches the remote container through this machine's gateway; status says via ssh forward", async () => {
  ok(["up", "n1"]);
  const r = await pollValue(web, (x) => x.status === 200);
  assert.is(r.status, 200, `web by name: ${r.status} ${r.body} ${r.stderr}`);
  assert.is(r.body, `page of ${project} on r1\n`);
  // The container IP is the remote engine's: this machine has no route to it (or the same private
  // address is a container of this machine's engine, which does not serve the remote page).
  const s = statusJson();
  const ip = s.services.find((x: { name: string }) => x.name === "web").ip as string;
  assert.is.not(curlGet(`http://${ip}/`, ["--max-time", "2"]).body, `page of ${project} on r1\n`, `${ip} does not reach the remote container from here`);
  assert.is(s.reach.via, "ssh-forward");
  assert.is(s.reach.running, true);
  assert.ok(alive(s.reach.pid), "the ssh forward runs");
  const table = ok(["status", "n1"]).stdout;
  assert.match(table, /reached via ssh forward to host r1 \(running, pid \d+\)/);
  assert.match(table, new RegExp(`URL \\(through the gateway, via ssh forward\\)[\\s\\S]*http://web\\.n1\\.${project}\\.localhost:${gwPort}/`));
  assert.is(gatewayIds(home).length, 1, "the gateway runs on this machine's engine");
});

test(".test name: cilo's dnsmasq answers this machine's gateway (the loopback), and HTTP by that name gets the remote page", () => {
  const dig = spawnSync("dig", ["@127.0.0.1", "-p", String(dnsPort), "+short", "web.n1.test"], { encoding: "utf8" });
  assert.is(dig.stdout.trim(), "127.0.0.1", dig.stdout + dig.stderr);
  const r = getByName("web.n1.test", gwPort, { address: dig.stdout.trim() });
  assert.is(r.body, `page of ${project} on r1\n`, `${r.status} ${r.body}`);
});

test("a TCP forward on 127.0.0.1 reaches the remote TCP service; cilo run gets it as CILO_ADDR_ECHO_7000", async () => {
  const [f] = statusJson().forwards;
  assert.is(f.address, "127.0.0.1");
  assert.is(f.port, 7000);
  assert.is(f.variable, "CILO_ADDR_ECHO_7000");
  const got = await echo(f.host_port, "hello through ssh");
  assert.is(got, "remote-echo\nhello through ssh\n");
  const printed = ok(["run", "printenv CILO_ADDR_ECHO_7000", "n1"]).stdout.trim().split("\n").pop();
  assert.is(printed, `127.0.0.1:${f.host_port}`);
});

test("the link cut: a command on the env is one exit-3 line naming the host and the check, state untouched; restored, doctor --fix finishes and the names answer", async () => {
  // New connections must be tried during the cut: end this test's control connection first.
  spawnSync(join(bin, "ssh"), ["-O", "exit", "10.213.77.2"], { stdio: "ignore" });
  const before = stateFiles();
  const results: { args: string[]; code: number; stderr: string }[] = [];
  // The link down, as asked; and, since any other test's `test-remote.sh start` sets the link up
  // again (its setup is idempotent), a route that sends nothing to the host either way: a
  // connection fails at once (no route to host) for as long as the cut lasts.
  const cut = spawnSync("ip", ["link", "set", LINK, "down"], { encoding: "utf8" });
  assert.is(cut.status, 0, `ip link set ${LINK} down: ${cut.stderr}`);
  const hole = spawnSync("ip", ["route", "add", "unreachable", `${HOST_ADDR}/32`], { encoding: "utf8" });
  try {
    assert.is(hole.status, 0, `ip route add unreachable ${HOST_ADDR}/32: ${hole.stderr}`);
    for (const args of [
      ["status", "n1"],
      ["down", "n1"],
    ]) {
      const r = run(args);
      results.push({ args, code: r.code, stderr: r.stderr });
    }
  } finally {
    spawnSync("ip", ["route", "del", "unreachable", `${HOST_ADDR}/32`]);
    const up = spawnSync("ip", ["link", "set", LINK, "up"], { encoding: "utf8" });
    assert.is(up.status, 0, `ip link set ${LINK} up: ${up.stderr}`);
  }
  for (const r of results) {
    const lines = r.stderr
      .trim()
      .split("\n")
      .filter((l) => !l.startsWith("hint:"));
    assert.is(r.code, 3, `cilo ${r.args.join(" ")} → ${r.code}\n${r.stderr}`);
    assert.is(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^cilo: host r1 \(ssh:\/\/root@10\.213\.77\.2\): engine failed: /);
  }
  assert.equal(stateFiles(), before, "state.json and the record files are byte for byte as before");
  const fixed = run(["doctor", "--fix"]);
  assert.is(fixed.code, 0, `doctor --fix → ${fixed.code}\n${fixed.stdout}${fixed.stderr}`);
  const r = await pollValue(web, (x) => x.status === 200);
  assert.is(r.body, `page of ${project} on r1\n`, `after the cut: ${r.status} ${r.body}`);
  const [f] = statusJson().forwards;
  assert.is(await echo(f.host_port, "after the cut"), "remote-echo\nafter the cut\n");
  assert.is(statusJson().reach.running, true);
});

test("doctor finds a dead ssh forward (tunnel-down) and --fix starts it again on the same port", async () => {
  const s = statusJson();
  process.kill(s.reach.pid, "SIGTERM");
  await pollValue(
    () => alive(s.reach.pid),
    (x) => !x,
  );
  const report = JSON.parse(run(["doctor", "--json"]).stdout);
  assert.ok(
    report.findings.some((f: { id: string; subject: string }) => f.id === "tunnel-down"),
    JSON.stringify(report.findings.map((f: { id: string }) => f.id)),
  );
  assert.match(ok(["doctor", "--fix"]).stdout, /tunnel-down\s+\S+: started its ssh forward again \(TCP 127\.0\.0\.1:\d+\)/);
  assert.is((await pollValue(web, (x) => x.status === 200)).status, 200);
  const again = statusJson();
  assert.is(again.forwards[0].host_port, s.forwards[0].host_port);
  assert.is.not(again.reach.pid, s.reach.pid);
});

test("down releases the ssh forward (process, sockets, port); up takes the same port again, or the next when another program holds it; destroy leaves nothing", async () => {
  const s = statusJson();
  const port = s.forwards[0].host_port as number;
  ok(["down", "n1"]);
  assert.not.ok(alive(s.reach.pid), "the ssh forward stopped");
  assert.equal(readdirSync(join(home, "tunnels")), [], "no socket, pid or log file is left");
  assert.is(await echo(port, "x", 2_000), "", "nothing answers on the forward's port");
  assert.is(gatewayIds(home).length, 0, "no env runs: the gateway is gone");
  const down = statusJson();
  assert.is(down.reach.running, false);
  assert.match(ok(["status", "n1"]).stdout, /reached via ssh forward to host r1 \(none while the env is not running\)/);
  ok(["up", "n1"]);
  assert.is(statusJson().forwards[0].host_port, port);
  assert.is((await pollValue(web, (x) => x.status === 200)).status, 200);
  // Another program holds the forward's port: the next up takes another port of the range.
  ok(["down", "n1"]);
  const squatter = createServer((c) => c.end("squatter\n"));
  await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
  try {
    ok(["up", "n1"]);
    const moved = statusJson().forwards[0].host_port as number;
    assert.is.not(moved, port);
    assert.is(await echo(moved, "moved"), "remote-echo\nmoved\n");
  } finally {
    await new Promise((resolve) => squatter.close(resolve));
  }
  const pid = statusJson().reach.pid as number;
  ok(["destroy", "n1"]);
  assert.not.ok(alive(pid));
  assert.ok(!existsSync(join(home, "tunnels")) || readdirSync(join(home, "tunnels")).length === 0);
  assert.not.ok(existsSync(`${ROOT}/${project}/n1`));
});

test.run();
