// Envs on a host (issue 17 items 2–3, docs/remote.md) against the real remote engine: the second
// engine `cilo-e2` in its network namespace, reached over ssh://root@10.213.77.2 (the sshd of
// scripts/test-remote.sh; the ssh wrapper on PATH finds the test key, never ~/.ssh).
// `create --on` puts the env on that engine with its workspace pushed under a remote root of this
// test's own, and bind mounts taken from there; `cilo sync` (once, --watch, --pull) moves edits;
// a workflow `create: { on: r1 }` runs green; an unreachable host is exit 3 with state.json byte for
// byte as before; destroy leaves no remote workspace and no labelled resource on that engine.
//
// The namespace shares this machine's files, so the remote root is also readable here: the test
// reads it to see what arrived, and asks the remote engine (tcp://) where the container's mounts
// come from. The local engine is never needed: DOCKER_HOST points nowhere. Unreachability is a
// host record pointing at a port nobody listens on: the shared link of the bed is never cut.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { cilo, ciloCommand, refusedUnchanged, removeDir, startCilo, tempDir } from "../helpers/cli.ts";
import { shippedSchema, schemaAjv } from "../helpers/schemas.ts";
import { BED_SSH as SSH, bedDocker as remoteDocker, bedContainer, initRemoteWorkspaceHome, startRemoteBed } from "../helpers/remote-bed.ts";
import { stateEnvs } from "../helpers/state-files.ts";
import { until } from "../helpers/until.ts";

const home = tempDir("cilo-hostenv-");
const statePath = join(home, "state.json");
const project = tempDir("cilo-hostenv-src-");
// The remote root of this test run (made by the first push; removed at the end).
const ROOT = `/srv/cilo-remote-test-${process.pid}`;
const env = {
  PATH: `/run/cilo-test-remote/bin:${process.env["PATH"]}`,
  DOCKER_HOST: "unix:///nonexistent/cilo-host-envs-test.sock",
  DOCKER_CONTEXT: "",
  CILO_HELPER_IMAGE: "cilo-test/busybox:latest",
};

const run = (args: string[], opts: { cwd?: string } = {}) => cilo(args, { home, env, timeoutMs: 240_000, ...opts });
function ok(args: string[], opts: { cwd?: string } = {}) {
  const r = run(args, opts);
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}${r.stderr}`);
  return r;
}
/** A refusal: exit `code`, one stderr line matching `pattern`, state.json byte for byte as before. */
function refused(args: string[], code: number, pattern: RegExp): string {
  return refusedUnchanged(run, statePath, args, code, pattern);
}
function homeId(): string {
  return JSON.parse(readFileSync(statePath, "utf8")).home_id;
}
/** Labelled resources of this home on the remote engine, of one env when given. */
function remoteResources(envName?: string): string[] {
  const filters = ["--filter", `label=cilo.home=${homeId()}`, ...(envName ? ["--filter", `label=cilo.env=${envName}`] : [])];
  return [
    ...remoteDocker(["ps", "-aq", ...filters]).split("\n"),
    ...remoteDocker(["network", "ls", "-q", ...filters]).split("\n"),
    ...remoteDocker(["volume", "ls", "-q", ...filters]).split("\n"),
  ].filter(Boolean);
}
const cat = (envName: string, path: string) => ok(["exec", envName, "web", "cat", path]).stdout;

test.before(async () => {
  startRemoteBed();
  await initRemoteWorkspaceHome(ok, project, "r1", SSH, ROOT);
});

test.after(() => {
  run(["destroy", "b1", "--force"]);
  removeDir(home);
  removeDir(project);
  rmSync(ROOT, { recursive: true, force: true });
});

test("create --on r1, up: the containers run on the host's engine, bind-mounted from <remote root>/<project>/<env>", () => {
  const created = JSON.parse(ok(["create", "b1", "--on", "r1", "--json"], { cwd: project }).stdout);
  const ws = `${ROOT}/${created.project}/b1`;
  assert.is(created.host, "r1");
  assert.is(created.remote_workspace, ws);
  assert.ok(existsSync(join(ws, "web/index.html")), "create pushed the workspace");
  ok(["up", "b1", "--wait"], { cwd: project });
  const web = bedContainer(home, "b1", "web");
  assert.ok(web, "the web container runs on the remote engine");
  const mounts = JSON.parse(remoteDocker(["inspect", web, "--format", "{{json .Mounts}}"])) as { Source: string; Destination: string }[];
  assert.equal(
    mounts.map((m) => [m.Source, m.Destination]),
    [[`${ws}/web`, "/www"]],
  );
  assert.match(cat("b1", "/www/index.html"), "cilo basic example");
});

test("list and status show the host (table and --json, of their schemas)", () => {
  assert.match(ok(["list"]).stdout, /PROJECT\s+ENV\s+STATUS\s+HOST\s+SUBNET[^\n]*\n\S+\s+b1\s+running\s+r1\s+10\./);
  const list = JSON.parse(ok(["list", "--json"]).stdout);
  const listValid: boolean = shippedSchema("list")(list);
  assert.ok(listValid, schemaAjv.errorsText(shippedSchema("list").errors));
  assert.is(list[0].host, "r1");
  const status = JSON.parse(ok(["status", "b1", "--json"]).stdout);
  const statusValid: boolean = shippedSchema("env")(status);
  assert.ok(statusValid, schemaAjv.errorsText(shippedSchema("env").errors));
  assert.is(status.host, "r1");
  assert.equal(
    status.services.map((s: { name: string; state: string }) => [s.name, s.state]),
    [
      ["api", "running"],
      ["cache", "running"],
      ["web", "running"],
    ],
  );
  assert.match(ok(["status", "b1"]).stdout, /b1\s+running\s+host r1\s+subnet/);
  assert.match(ok(["host", "list"]).stdout, /r1\s+ssh:\/\/root@10\.213\.77\.2\s+1/);
});

test("up pushes what changed here since the last push, and what the host made stays; a push that fails leaves the record as it was and no env network there; a workspace gone there is pushed whole", () => {
  const status = JSON.parse(ok(["status", "b1", "--json"]).stdout);
  const local = status.workspace as string;
  const ws = `${ROOT}/${status.project}/b1`;
  const key = `${status.project}/b1`;
  const networkThere = () => remoteDocker(["network", "ls", "-q", "--filter", `name=^${status.network}$`]).trim();
  ok(["down", "b1"]);
  assert.is(networkThere(), "", "down removed the env network");
  // A container's output in a bind-mounted folder (or a file made by hand there): an up keeps it,
  // as on a local env, where that folder is the workspace itself.
  writeFileSync(join(ws, "web/made-there.txt"), "made on the host\n");
  writeFileSync(join(local, "web/up-edit.txt"), "edited before up\n");
  // The push fails while the engine answers: a file where the push's stage folder goes.
  rmSync(join(ws, ".cilo"), { recursive: true, force: true });
  writeFileSync(join(ws, ".cilo"), "in the way\n");
  const before = stateEnvs(home)[key];
  const failed = run(["up", "b1"], { cwd: project });
  assert.is(failed.code, 1, `${failed.stdout}${failed.stderr}`);
  assert.match(failed.stderr, /Pushing the workspace of \S+\/b1 to host r1 failed/);
  assert.equal(stateEnvs(home)[key], before, "the record is as it was");
  assert.is(networkThere(), "", "the env network made while the push ran went again");
  rmSync(join(ws, ".cilo"));
  ok(["up", "b1", "--wait"], { cwd: project });
  assert.is(cat("b1", "/www/up-edit.txt"), "edited before up\n");
  assert.is(cat("b1", "/www/made-there.txt"), "made on the host\n");
  rmSync(join(local, "web/up-edit.txt"));
  rmSync(join(ws, "web/made-there.txt"));
  ok(["sync", "b1"]);
  assert.not.ok(existsSync(join(ws, "web/up-edit.txt")), "a deletion here propagates");
  // A host wiped or rebuilt (the remote workspace gone): the next push finds no workspace where
  // its manifest put one, and compares the whole trees instead of sending nothing.
  ok(["down", "b1"]);
  rmSync(ws, { recursive: true, force: true });
  const healed = JSON.parse(ok(["sync", "b1", "--json"]).stdout);
  assert.is(healed.via, "rsync");
  assert.is(readFileSync(join(ws, "web/index.html"), "utf8"), readFileSync(join(local, "web/index.html"), "utf8"), "the workspace is back");
  // Without a manifest (a pull forgets it) up compares the whole trees with rsync and records the
  // manifest while compose runs: the next sync then compares with it and has nothing to send.
  ok(["sync", "b1", "--pull"]);
  assert.not.ok(existsSync(join(local, ".cilo/push-manifest")), "the pull forgot the manifest");
  ok(["up", "b1"], { cwd: project });
  assert.ok(existsSync(join(local, ".cilo/push-manifest")), "up recorded one");
  const next = JSON.parse(ok(["sync", "b1", "--json"]).stdout);
  assert.equal([next.via, next.sent, next.removed], ["tar", 0, 0]);
});

test("cilo sync: a local edit reaches the container; deletions propagate; .ciloignore lines stay here; --pull brings files back", () => {
  const local = JSON.parse(ok(["status", "b1", "--json"]).stdout).workspace as string;
  const ws = `${ROOT}/${JSON.parse(ok(["status", "b1", "--json"]).stdout).project}/b1`;
  writeFileSync(join(local, "web/index.html"), "<h1>edited here</h1>\n");
  writeFileSync(join(local, "web/extra.txt"), "extra\n");
  writeFileSync(join(local, "web/debug.log"), "not for the host\n");
  writeFileSync(join(local, "web/keep.log"), "this one goes\n");
  assert.match(ok(["sync", "b1"]).stdout, /^Pushed .* → host r1:\/srv\/cilo-remote-test-\d+\/\S+\/b1 \(/);
  assert.is(cat("b1", "/www/index.html"), "<h1>edited here</h1>\n");
  assert.is(cat("b1", "/www/extra.txt"), "extra\n");
  assert.not.ok(existsSync(join(ws, "web/debug.log")), ".ciloignore *.log is not pushed");
  assert.ok(existsSync(join(ws, "web/keep.log")), "!keep.log is");
  assert.not.ok(existsSync(join(ws, ".cilo")), "cilo's own folder stays here");
  rmSync(join(local, "web/extra.txt"));
  ok(["sync", "b1"]);
  assert.not.ok(existsSync(join(ws, "web/extra.txt")), "a deletion propagates");
  // A small change goes as one tar over ssh; a large one (over 16 MiB) through rsync, named on its stdin.
  writeFileSync(join(local, "web/big.bin"), Buffer.alloc(17 * 1024 * 1024, 7));
  const big = JSON.parse(ok(["sync", "b1", "--json"]).stdout);
  assert.equal([big.via, big.sent], ["rsync", 1]);
  assert.is(statSync(join(ws, "web/big.bin")).size, 17 * 1024 * 1024);
  rmSync(join(local, "web/big.bin"));
  writeFileSync(join(local, "web/small.txt"), "small\n");
  const small = JSON.parse(ok(["sync", "b1", "--json"]).stdout);
  assert.equal([small.via, small.sent, small.removed], ["tar", 1, 1]);
  assert.not.ok(existsSync(join(ws, "web/big.bin")), "the deletion went with the tar push");
  assert.is(cat("b1", "/www/small.txt"), "small\n");
  assert.not.ok(existsSync(join(ws, ".cilo")), "the tar push's stage is gone");
  // A result the host made (a build output, a report): --pull brings it back, deleting nothing here.
  mkdirSync(join(ws, "out"), { recursive: true });
  writeFileSync(join(ws, "out/report.txt"), "made on the host\n");
  rmSync(join(ws, "web/keep.log"));
  const pulled = JSON.parse(ok(["sync", "b1", "--pull", "--json"]).stdout);
  assert.is(pulled.direction, "pull");
  assert.is(readFileSync(join(local, "out/report.txt"), "utf8"), "made on the host\n");
  assert.ok(existsSync(join(local, "web/keep.log")), "a pull deletes nothing here");
  assert.ok(existsSync(join(local, "web/debug.log")));
});

test("cilo sync --watch: an edit reaches the container within 2 s; a burst of 40 files is a few pushes, not 40", async () => {
  const local = JSON.parse(ok(["status", "b1", "--json"]).stdout).workspace as string;
  const ws = `${ROOT}/${JSON.parse(ok(["status", "b1", "--json"]).stdout).project}/b1`;
  const watch = startCilo(["sync", "b1", "--watch"], { home, env });
  // A wait that fails says what the watcher printed (its pushes, a failed push's warning).
  const waitFor = (what: string, probe: () => boolean, timeoutMs?: number) =>
    until(what, probe, timeoutMs ? { timeoutMs } : {}).catch((e: Error) => {
      throw new Error(`${e.message}; cilo sync --watch printed:\n${watch.stdout}${watch.stderr}`);
    });
  try {
    // The edit is made the moment the first push's line appears: the watcher must already be live
    // (it once started after that line, and such an edit waited for the next one).
    let t0 = 0;
    const editOnFirstPush = () => {
      if (t0 !== 0 || !/^Pushed /m.test(watch.stdout)) return;
      writeFileSync(join(local, "web/index.html"), "<h1>watched</h1>\n");
      t0 = Date.now();
    };
    watch.child.stdout!.on("data", editOnFirstPush);
    await waitFor("the first push", () => t0 !== 0, 30_000);
    const pushes = () => watch.stdout.split("\n").filter((l) => l.startsWith("Pushed")).length;
    const before = 1;
    await waitFor(
      "the edit on the host",
      () => existsSync(join(ws, "web/index.html")) && readFileSync(join(ws, "web/index.html"), "utf8") === "<h1>watched</h1>\n",
      10_000,
    );
    const took = Date.now() - t0;
    assert.ok(took <= 2000, `the edit reached the host after ${took} ms (more than 2 s)`);
    assert.is(cat("b1", "/www/index.html"), "<h1>watched</h1>\n");
    await waitFor("the push line", () => pushes() > before);
    const afterOne = pushes();
    mkdirSync(join(local, "web/burst"), { recursive: true });
    for (let i = 0; i < 40; i++) writeFileSync(join(local, `web/burst/f${i}.txt`), `file ${i}\n`);
    await waitFor("the burst on the host", () => existsSync(join(ws, "web/burst/f39.txt")), 10_000);
    await until("the burst's last push line", () => /40 changes|changes\)/.test(watch.stdout.split("\n").slice(afterOne).join("\n")), {
      timeoutMs: 5_000,
    }).catch(() => {});
    const burst = pushes() - afterOne;
    assert.ok(burst >= 1 && burst <= 4, `the burst of 40 files took ${burst} pushes:\n${watch.stdout}`);
    assert.is(cat("b1", "/www/burst/f39.txt"), "file 39\n");
  } finally {
    watch.child.kill("SIGINT");
  }
  const end = await watch.done;
  assert.is(end.code, 0, end.stderr);
});

test("MCP env_sync (an agent's loop: no Node start per push); without .ciloignore rules GNU find lists the workspace; edits and deletions arrive", async () => {
  const local = JSON.parse(ok(["status", "b1", "--json"]).stdout).workspace as string;
  const ws = `${ROOT}/${JSON.parse(ok(["status", "b1", "--json"]).stdout).project}/b1`;
  const rules = readFileSync(join(local, ".ciloignore"), "utf8");
  const [command, ...args] = ciloCommand();
  const client = new Client({ name: "cilo-host-envs-test", version: "1" });
  await client.connect(
    new StdioClientTransport({
      command: command!,
      args: [...args, "mcp", "--all-envs"],
      cwd: project,
      env: { ...(process.env as Record<string, string>), ...env, CILO_HOME: home, NO_COLOR: "1" },
      stderr: "inherit",
    }),
  );
  const sync = async (a: Record<string, unknown>) => {
    const r: any = await client.callTool({ name: "env_sync", arguments: a }, undefined, { timeout: 120_000 });
    assert.not.ok(r.isError, r.content?.[0]?.text);
    return r.structuredContent;
  };
  try {
    writeFileSync(join(local, ".ciloignore"), "# no rules: find lists\n");
    writeFileSync(join(local, "web/by-mcp.txt"), "pushed by env_sync\n");
    mkdirSync(join(local, "web/sub dir"), { recursive: true });
    writeFileSync(join(local, "web/sub dir/it's.txt"), "odd name\n");
    rmSync(join(local, "web/small.txt"));
    // Written 10 s ago as far as mtimes go: not "racy" (a file written within 100 ms of a push is
    // sent again by the next one), so the second push below has nothing to send.
    const past = (Date.now() - 10_000 + 123) / 1000;
    for (const f of [".ciloignore", "web/by-mcp.txt", "web/sub dir/it's.txt"]) utimesSync(join(local, f), past, past);
    const pushed = await sync({ env: "b1" });
    assert.equal([pushed.direction, pushed.host, pushed.listedBy, pushed.via], ["push", "r1", "find", "tar"]);
    assert.ok(pushed.sent >= 3 && pushed.removed >= 1, JSON.stringify(pushed));
    assert.is(cat("b1", "/www/by-mcp.txt"), "pushed by env_sync\n");
    assert.is(readFileSync(join(ws, "web/sub dir/it's.txt"), "utf8"), "odd name\n");
    assert.not.ok(existsSync(join(ws, "web/small.txt")), "a deletion propagates");
    // The ignored .log files were pushed now that no rule keeps them here, as rsync would.
    assert.ok(existsSync(join(ws, "web/debug.log")));
    const again = await sync({ env: "b1" });
    assert.equal([again.listedBy, again.sent, again.removed], ["find", 0, 0]);
  } finally {
    writeFileSync(join(local, ".ciloignore"), rules);
    await client.close();
  }
  const back = JSON.parse(ok(["sync", "b1", "--json"]).stdout);
  assert.is(back.listedBy, "walk", "with rules the walk lists (find would descend into ignored folders)");
});

test("cilo run --remote: the command runs on the host over ssh, in the remote workspace after a push, with CILO_* of that side; its exit code is cilo's", () => {
  const status = JSON.parse(ok(["status", "b1", "--json"]).stdout);
  writeFileSync(join(status.workspace, "web/remote-run.txt"), "pushed before the run\n");
  const r = ok(["run", 'echo "conn=$SSH_CONNECTION"; echo "pwd=$PWD"; cat web/remote-run.txt; env | grep ^CILO_ | sort', "b1", "--remote"]);
  const lines = r.stdout.split("\n");
  // sshd sets SSH_CONNECTION: <client ip> <port> <server ip> <port>; the server is the namespace's address.
  assert.match(lines[0]!, /^conn=10\.213\.77\.1 \d+ 10\.213\.77\.2 22$/);
  assert.is(lines[1], `pwd=${status.remote_workspace}`);
  assert.is(lines[2], "pushed before the run");
  const vars = Object.fromEntries(
    lines
      .slice(3)
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  assert.is(vars.CILO_ENV, "b1");
  assert.is(vars.CILO_PROJECT, status.project);
  assert.is(vars.CILO_HOST, "r1");
  assert.is(vars.CILO_WORKSPACE, status.remote_workspace);
  assert.not.ok("CILO_DNS_SERVER" in vars || "CILO_BASE_URL" in vars, "this machine's DNS and gateway are not for the host");
  for (const [k, v] of Object.entries(vars).filter(([k]) => k.startsWith("CILO_ADDR_"))) assert.match(v as string, /^10\.\d+\.\d+\.\d+:\d+$/, k);
  const failed = run(["run", "exit 7", "b1", "--remote"]);
  assert.is(failed.code, 7, failed.stderr);
  const quoted = ok(["run", "b1", "--remote", "--", "printf", "%s|", "it's", "$HOME", "a b"]);
  assert.is(quoted.stdout, "it's|$HOME|a b|", "arguments after -- arrive as given");
});

test("an unknown host is exit 2, state untouched (tcp:// hosts take envs too: host-tcp.test.ts)", () => {
  refused(["create", "x1", "--on", "nope", "--from", project], 2, /No host named "nope"/);
});

test("an unreachable host: every command on its env is one exit-3 line naming the host, state.json byte for byte as before", () => {
  // A host that does not answer: recorded without asking, at a port nobody listens on.
  ok(["host", "add", "dead", "ssh://root@10.213.77.2:2", "--no-check"]);
  refused(["create", "x1", "--on", "dead", "--from", project], 3, /^cilo: host dead \(ssh:\/\/root@10\.213\.77\.2:2\): engine failed: .*Connection refused/);
  ok(["host", "rm", "dead"]);
  // The env's own host stops answering: its record now points at that port (the link itself stays up).
  const good = readFileSync(statePath, "utf8");
  const state = JSON.parse(good);
  state.hosts.r1.address = "ssh://root@10.213.77.2:2";
  writeFileSync(statePath, JSON.stringify(state));
  try {
    for (const args of [
      ["up", "b1"],
      ["status", "b1"],
      ["down", "b1"],
      ["destroy", "b1", "--force"],
      ["logs", "b1"],
      ["exec", "b1", "web", "true"],
      ["sync", "b1"],
    ]) {
      refused(args, 3, /^cilo: host r1 \(ssh:\/\/root@10\.213\.77\.2:2\): (engine|ssh) failed: .*Connection refused/);
    }
    const doctor = run(["doctor", "--json"]);
    assert.is(doctor.code, 3, doctor.stderr);
    const report = JSON.parse(doctor.stdout);
    assert.ok(
      report.findings.some((f: { id: string; subject: string }) => f.id === "host-unreachable" && f.subject === "host r1"),
      doctor.stdout,
    );
  } finally {
    writeFileSync(statePath, good);
  }
  assert.is(JSON.parse(ok(["status", "b1", "--json"]).stdout).status, "running", "back: the env is as it was");
});

test("a workflow with create: { on: r1 } runs green on the host and its env is destroyed after", () => {
  const wf = join(project, "remote.yaml");
  writeFileSync(
    wf,
    [
      "version: 1",
      "name: remote-smoke",
      "steps:",
      "  - create: { on: r1 }",
      "  - up: { wait: true, timeout: 2m }",
      "  - exec: { service: web, command: [cat, /www/index.html] }",
      "  - destroy: {}",
      "    if: always()",
      "",
    ].join("\n"),
  );
  const r = run(["run", wf, "--json"], { cwd: project });
  assert.is(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const ends = r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === "step_end");
  assert.equal(
    ends.map((e) => [e.action, e.outcome]),
    [
      ["create", "success"],
      ["up", "success"],
      ["exec", "success"],
      ["destroy", "success"],
    ],
  );
  const key = ends[0].outputs.env as string;
  assert.equal(remoteResources(key), [], "nothing of the workflow's env is left on the host");
  assert.not.ok(existsSync(join(ROOT, ends[0].outputs.project, key)), "nor its remote workspace");
});

test("doctor judges the env on its host's engine and --fix repairs it there; destroy leaves no remote workspace and no labelled resource there", () => {
  const findings = () => {
    const doctor = run(["doctor", "--json"]);
    const report = JSON.parse(doctor.stdout);
    assert.ok(
      report.checks.some((c: { name: string; ok: boolean }) => c.name === "Host r1" && c.ok),
      doctor.stdout,
    );
    return (report.findings as { id: string; subject: string }[]).filter((f) => f.subject.endsWith("/b1")).map((f) => f.id);
  };
  assert.equal(findings(), [], "nothing to say about b1");
  // A container removed behind cilo's back on the host's engine: found there, and started again there.
  const cache = () => bedContainer(home, "b1", "cache");
  remoteDocker(["rm", "-f", cache()]);
  assert.equal(findings(), ["env-service-missing"]);
  const fix = run(["doctor", "--fix"]);
  assert.match(fix.stdout, /env-service-missing\s+\S+\/b1: started it again/, fix.stdout + fix.stderr);
  assert.ok(cache(), "the cache container runs again on the host");
  assert.equal(findings(), []);
  const ws = JSON.parse(ok(["status", "b1", "--json"]).stdout).remote_workspace as string;
  assert.ok(remoteResources("b1").length > 0);
  ok(["destroy", "b1", "--force"]);
  assert.not.ok(existsSync(ws), `${ws} is gone`);
  assert.equal(remoteResources(), [], "no labelled resource of this home on the remote engine");
  assert.ok(existsSync(ROOT), "the remote root itself stays");
  ok(["host", "rm", "r1"]);
});

test.run();
