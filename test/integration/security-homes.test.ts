// Two CILO_HOMEs on one engine (issue 11, item 2): each touches only its own resources.
// Before home ids, home B's destroy of an env with the same project and name ran `compose down -v`
// on the same compose project and swept the same labels: home A's containers and volume data went.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, startCilo, tempDir } from "../helpers/cli.ts";
import { freePort, labelled } from "../helpers/docker.ts";
import { until } from "../helpers/until.ts";
import { stateEnvs } from "../helpers/state-files.ts";

const homeA = tempDir("cilo-homeA-");
const homeB = tempDir("cilo-homeB-");
const work = tempDir("cilo-homes-src-");
const project = `sechome-${Math.random().toString(36).slice(2, 7)}`;
const src = join(work, project);
mkdirSync(join(src, ".cilo"), { recursive: true });
writeFileSync(join(src, ".cilo", "config.yml"), `project: ${project}\n`);
writeFileSync(
  join(src, "compose.yml"),
  [
    "services:",
    "  db:",
    "    image: cilo-test/busybox:latest",
    '    command: ["sleep", "3600"]',
    "    volumes:",
    "      - data:/data",
    "volumes:",
    "  data: {}",
    "",
  ].join("\n"),
);

function ok(home: string, args: string[]) {
  const r = cilo(args, { home, cwd: src });
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

function docker(...args: string[]): string {
  return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

function homeId(home: string): string {
  return JSON.parse(execFileSync("cat", [join(home, "state.json")], { encoding: "utf8" })).home_id;
}

test.before(async () => {
  ok(homeA, ["init", "--dns-port", String(await freePort())]);
  ok(homeB, ["init", "--dns-port", String(await freePort())]);
});

test.after(() => {
  cilo(["destroy", "--force", "same"], { home: homeA, cwd: src });
  cilo(["destroy", "--force", "same"], { home: homeB, cwd: src });
  cilo(["dns", "stop"], { home: homeB, cwd: src });
  // Anything left labelled with either home (the test removes home A's folder on purpose below).
  for (const id of [homeId(homeB)]) {
    for (const c of labelled("container", `cilo.home=${id}`)) docker("rm", "-f", c);
    for (const n of labelled("network", `cilo.home=${id}`)) docker("network", "rm", n);
    for (const v of labelled("volume", `cilo.home=${id}`)) docker("volume", "rm", v);
  }
  for (const d of [homeA, homeB, work]) removeDir(d);
});

let idA = "";

test("the same project/env in two homes gets two compose projects, networks and volumes, each labelled with its home", () => {
  idA = homeId(homeA);
  const idB = homeId(homeB);
  assert.is.not(idA, idB);
  for (const home of [homeA, homeB]) {
    ok(home, ["create", "same"]);
    ok(home, ["up", "same", "--wait"]);
  }
  ok(homeA, ["exec", "same", "db", "sh", "-c", "echo data-of-home-a > /data/f"]);
  ok(homeB, ["exec", "same", "db", "sh", "-c", "echo data-of-home-b > /data/f"]);
  for (const id of [idA, idB]) {
    assert.is(labelled("container", `cilo.home=${id}`, `cilo.project=${project}`, "cilo.env=same").length, 1, `one container of home ${id}`);
    assert.is(labelled("volume", `cilo.home=${id}`, `cilo.project=${project}`).length, 1, `one volume of home ${id}`);
    assert.is(labelled("network", `cilo.home=${id}`, `cilo.project=${project}`).length, 1, `one network of home ${id}`);
  }
  assert.is(ok(homeA, ["exec", "same", "db", "cat", "/data/f"]).stdout.trim(), "data-of-home-a", "home A's env does not mount home B's volume");
});

test("home B's destroy leaves home A's container running and its volume data intact", () => {
  ok(homeB, ["destroy", "--force", "same"]);
  assert.equal(labelled("container", `cilo.home=${homeId(homeB)}`), []);
  assert.equal(labelled("volume", `cilo.home=${homeId(homeB)}`), []);
  const [container] = labelled("container", `cilo.home=${idA}`, `cilo.project=${project}`);
  assert.ok(container, "home A's container is still there");
  assert.is(docker("inspect", "-f", "{{.State.Running}}", container!), "true");
  assert.is(ok(homeA, ["exec", "same", "db", "cat", "/data/f"]).stdout.trim(), "data-of-home-a");
});

test("doctor in home B leaves a live home A alone; once home A is gone it names A's resources and removes them only with --foreign", () => {
  const report = (args: string[]) =>
    JSON.parse(cilo(["doctor", "--json", ...args], { home: homeB, cwd: src }).stdout) as {
      findings: { id: string; subject: string; message: string }[];
      fixed: { id: string }[];
    };
  assert.equal(
    report([]).findings.filter((f) => f.id === "resource-foreign"),
    [],
    "home A still exists: its resources are its own business",
  );
  assert.equal(
    report(["--fix"]).fixed.filter((f) => f.id === "resource-foreign"),
    [],
  );
  assert.is(labelled("container", `cilo.home=${idA}`).length, 1, "doctor --fix in home B removed nothing of home A");
  // Home A goes away as a throwaway CI home would: its dnsmasq first (nothing else runs it), then the folder.
  cilo(["dns", "stop"], { home: homeA, cwd: src });
  removeDir(homeA);
  const named = report([]).findings.filter((f) => f.id === "resource-foreign");
  assert.is(named.length, 3, `container, network, volume of the gone home are named:\n${JSON.stringify(named, null, 2)}`);
  for (const f of named) assert.match(f.message, /cilo doctor --fix --foreign/);
  report(["--fix"]);
  assert.is(labelled("container", `cilo.home=${idA}`).length, 1, "--fix alone never removes another home's resources");
  const fixed = report(["--fix", "--foreign"]).fixed.filter((f) => f.id === "resource-foreign");
  assert.is(fixed.length, 3);
  assert.equal(labelled("container", `cilo.home=${idA}`), []);
  assert.equal(labelled("volume", `cilo.home=${idA}`), []);
  assert.equal(labelled("network", `cilo.home=${idA}`), []);
});

test("a network made on the env's subnet between up's check and compose (another home, any program): up takes another subnet", async () => {
  ok(homeB, ["create", "race"]);
  const subnet: string = stateEnvs(homeB)[`${project}/race`].subnet;
  const go = join(work, "go");
  const up = startCilo(["up", "race"], { home: homeB, cwd: src, env: { CILO_FAILPOINT: `up:before-compose@pause:${go}` } });
  const intruder = `sechome-intruder-${Math.random().toString(36).slice(2, 7)}`;
  try {
    // up has checked the subnet and stands just before compose: take its subnet now.
    await until("up pauses before compose", () => existsSync(`${go}.waiting`), { timeoutMs: 120_000 });
    docker("network", "create", "--subnet", subnet, intruder);
    writeFileSync(go, "");
    const r = await up.done;
    assert.is(r.code, 0, r.stderr);
    const now: string = stateEnvs(homeB)[`${project}/race`].subnet;
    assert.is.not(now, subnet, "the env moved to another subnet");
    assert.is(docker("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", stateEnvs(homeB)[`${project}/race`].docker_name), now);
  } finally {
    writeFileSync(go, "");
    await up.done;
    ok(homeB, ["destroy", "--force", "race"]);
    try {
      docker("network", "rm", intruder);
    } catch {
      // not made
    }
  }
});

test.run();
