// cilo doctor against the real engine (issue 6): what it finds, what --fix repairs, what it never touches.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { freePort, labelled } from "../helpers/docker.ts";
import { stateEnvs } from "../helpers/state-files.ts";

const home = tempDir("cilo-doctor-");
const work = tempDir("cilo-doctor-src-");
const suffix = Math.random().toString(36).slice(2, 7);
const project = `doc-${suffix}`;
const src = join(work, project);
cpSync(join(repoRoot, "examples/basic"), src, { recursive: true });
writeFileSync(join(src, ".cilo", "config.yml"), `project: ${project}\n`);
const made: { kind: "container" | "network" | "volume"; name: string }[] = [];

function ok(args: string[]) {
  const r = cilo(args, { home, cwd: src });
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

interface Report {
  healthy: boolean;
  findings: { id: string; severity: string; message: string; fix: string | null; subject: string }[];
  fixed: { id: string; subject: string; message: string }[];
  failed: { id: string; subject: string; message: string }[];
}

function doctor(...flags: string[]): { code: number; report: Report; stderr: string } {
  const r = cilo(["doctor", "--json", ...flags], { home, cwd: src });
  let report: Report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    throw new Error(`doctor --json printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, report, stderr: r.stderr };
}

const problems = (r: Report) => r.findings.filter((f) => f.severity !== "info").map((f) => `${f.id} ${f.subject}`);

function docker(...args: string[]): string {
  return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

test.before(async () => {
  ok(["init", "--dns-port", String(await freePort())]);
});

test.after(() => {
  for (const m of made) {
    try {
      if (m.kind === "container") docker("rm", "-f", m.name);
      else docker(m.kind, "rm", m.name);
    } catch {
      // removed by the test already
    }
  }
  const envs = stateEnvs(home);
  for (const key of Object.keys(envs)) cilo(["destroy", key, "--force"], { home });
  cilo(["dns", "stop"], { home });
  removeDir(home);
  removeDir(work);
});

test("a fresh home is healthy; --json is valid JSON with checks and no problem", () => {
  const { code, report } = doctor();
  assert.is(code, 0, JSON.stringify(report, null, 2));
  assert.is(report.healthy, true);
  assert.equal(problems(report), []);
  assert.ok(Array.isArray((report as any).checks) && (report as any).checks.some((c: any) => c.name === "Docker engine" && c.ok));
  // This machine's resolver is not wired to cilo (no systemd-resolved, no dns setup): a warning that
  // says what it costs, never a failure and never a plain "ok".
  const resolver = (report as any).checks.find((c: any) => c.name === "System resolver");
  assert.is(resolver.ok, true);
  assert.is(resolver.warn, true, JSON.stringify(resolver));
  assert.match(resolver.detail, /names resolve only for programs that ask 127\.0\.0\.1:\d+ directly/);
  const text = cilo(["doctor"], { home });
  assert.match(text.stdout, /^warn\s+System resolver\s+(no supported resolver found|not set up): /m, text.stdout);
});

test("docker rm -f of one service: doctor names it (exit 1); doctor --fix brings it back (exit 0)", () => {
  ok(["create", "rmf"]);
  ok(["up", "rmf", "--wait"]);
  const api = labelled("container", `cilo.project=${project}`, "cilo.env=rmf", "cilo.service=api");
  assert.is(api.length, 1);
  docker("rm", "-f", api[0]!);
  const text = cilo(["doctor"], { home, cwd: src });
  assert.is(text.code, 1, text.stdout);
  assert.match(text.stdout, new RegExp(`env-service-missing\\s+${project}/rmf is running but service "api" has no container`));
  assert.match(text.stdout, /fix: start the env again/);
  const before = doctor();
  assert.is(before.code, 1);
  assert.equal(problems(before.report), [`env-service-missing ${project}/rmf`]);
  const fixed = doctor("--fix");
  assert.is(fixed.code, 0, JSON.stringify(fixed.report, null, 2));
  assert.equal(
    fixed.report.fixed.map((f) => f.id),
    ["env-service-missing"],
  );
  const status = JSON.parse(ok(["status", "rmf", "--json"]).stdout);
  assert.ok(
    status.services.every((s: any) => s.state === "running"),
    JSON.stringify(status.services),
  );
  assert.is(doctor().code, 0);
});

test("a corrupt state.json: every command stops, doctor reports it, --fix restores the backup with a message", () => {
  const file = join(home, "state.json");
  const good = JSON.parse(readFileSync(file, "utf8"));
  writeFileSync(file, '{"version": 1, "config": {"subnet_pool": "10.224.0.0/12", "subn');
  const list = cilo(["list"], { home });
  assert.is(list.code, 1);
  assert.match(list.stderr, /state file .* is corrupt/);
  const found = doctor();
  assert.is(found.code, 1);
  assert.equal(problems(found.report), ["state-corrupt state.json"]);
  assert.match(found.report.findings[0]!.fix!, /restore the last good state from .*state\.json\.bak/);
  const text = cilo(["doctor", "--fix"], { home, cwd: src });
  assert.is(text.code, 0, text.stdout + text.stderr);
  assert.match(text.stdout, /state-corrupt\s+state\.json: restored the state from .*state\.json\.bak; the corrupt file is kept as .*state\.json\.corrupt-/);
  const restored = JSON.parse(readFileSync(file, "utf8"));
  assert.equal(Object.keys(restored.index), Object.keys(good.index));
  assert.ok(readdirSync(home).some((n) => n.startsWith("state.json.corrupt-")));
  assert.is(cilo(["list"], { home }).code, 0);
  assert.is(doctor().code, 0);
});

test("orphans of this home are removed; resources without cilo labels or of another home are never touched", () => {
  const ghost = "ghost";
  const ours = ["--label", "cilo.managed=true", "--label", `cilo.project=${project}`, "--label", `cilo.env=${ghost}`];
  const cname = `cilo_${project}_${ghost}_api_1`;
  docker("network", "create", ...ours, `cilo_${project}_${ghost}`);
  docker("volume", "create", ...ours, `cilo_${project}_${ghost}_data`);
  docker(
    "run",
    "-d",
    "--name",
    cname,
    ...ours,
    "--label",
    "cilo.service=api",
    "--label",
    `com.docker.compose.project.working_dir=${join(home, "envs", project, ghost, ".cilo")}`,
    "--network",
    `cilo_${project}_${ghost}`,
    "-v",
    `cilo_${project}_${ghost}_data:/data`,
    "cilo-test/busybox:latest",
    "sleep",
    "600",
  );
  made.push(
    { kind: "container", name: cname },
    { kind: "network", name: `cilo_${project}_${ghost}` },
    { kind: "volume", name: `cilo_${project}_${ghost}_data` },
  );
  // Decoys: a look-alike without labels, and a cilo container of another CILO_HOME.
  const plain = `cilo_${project}_decoy_api_1`;
  docker("run", "-d", "--name", plain, "cilo-test/busybox:latest", "sleep", "600");
  const theirs = `cilo_${project}_theirs_api_1`;
  docker(
    "run",
    "-d",
    "--name",
    theirs,
    "--label",
    "cilo.managed=true",
    "--label",
    `cilo.project=${project}`,
    "--label",
    "cilo.env=theirs",
    "--label",
    "com.docker.compose.project.working_dir=/somewhere/else/.cilo/envs/x/theirs/.cilo",
    "cilo-test/busybox:latest",
    "sleep",
    "600",
  );
  made.push({ kind: "container", name: plain }, { kind: "container", name: theirs });
  const found = doctor();
  assert.is(found.code, 1);
  assert.equal(problems(found.report).sort(), [
    `container-orphaned ${cname}`,
    `network-orphaned cilo_${project}_${ghost}`,
    `volume-orphaned cilo_${project}_${ghost}_data`,
  ]);
  const fixed = doctor("--fix");
  assert.is(fixed.code, 0, JSON.stringify(fixed.report, null, 2));
  assert.equal(
    fixed.report.fixed.map((f) => f.id),
    ["container-orphaned", "network-orphaned", "volume-orphaned"],
  );
  assert.equal(labelled("container", `cilo.project=${project}`, `cilo.env=${ghost}`), []);
  assert.equal(labelled("network", `cilo.project=${project}`, `cilo.env=${ghost}`), []);
  assert.equal(labelled("volume", `cilo.project=${project}`, `cilo.env=${ghost}`), []);
  assert.is(docker("inspect", "-f", "{{.State.Running}}", plain), "true");
  assert.is(docker("inspect", "-f", "{{.State.Running}}", theirs), "true");
});

test("an orphaned workspace is deleted, but one with uncommitted git changes only with --force", () => {
  const plainWs = join(home, "envs", project, "stray");
  mkdirSync(plainWs, { recursive: true });
  writeFileSync(join(plainWs, "file.txt"), "x");
  const dirty = join(home, "envs", project, "dirty");
  mkdirSync(dirty, { recursive: true });
  execFileSync("git", ["init", "-q", dirty]);
  writeFileSync(join(dirty, "work.txt"), "not committed");
  const found = doctor();
  assert.equal(problems(found.report).sort(), [`workspace-orphaned ${project}/dirty`, `workspace-orphaned ${project}/stray`]);
  const first = doctor("--fix");
  assert.is(first.code, 1);
  assert.equal(
    first.report.fixed.map((f) => `${f.id} ${f.subject}`),
    [`workspace-orphaned ${project}/stray`],
  );
  assert.equal(
    first.report.failed.map((f) => `${f.id} ${f.subject}`),
    [`workspace-orphaned ${project}/dirty`],
  );
  assert.match(first.report.failed[0]!.message, /uncommitted changes; run cilo doctor --fix --force/);
  assert.not.ok(existsSync(plainWs));
  assert.ok(existsSync(join(dirty, "work.txt")));
  const forced = doctor("--fix", "--force");
  assert.is(forced.code, 0, JSON.stringify(forced.report, null, 2));
  assert.not.ok(existsSync(dirty));
});

test("a stale lock and a stray temp file of a dead writer are removed", () => {
  const lock = join(home, "state.json.lock");
  mkdirSync(lock);
  const old = new Date(Date.now() - 60_000);
  utimesSync(lock, old, old);
  const tmp = join(home, ".state.json.999999999.1700000000000.0.tmp");
  writeFileSync(tmp, "{}");
  const found = doctor();
  assert.equal(problems(found.report).sort(), [`lock-stale ${lock}`, `tmp-file-stray ${tmp}`]);
  const fixed = doctor("--fix");
  assert.is(fixed.code, 0, JSON.stringify(fixed.report, null, 2));
  assert.not.ok(existsSync(lock));
  assert.not.ok(existsSync(tmp));
});

test("Docker unreachable: exit 3 with the docker-unreachable finding", () => {
  const r = cilo(["doctor", "--json"], { home, env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" } });
  assert.is(r.code, 3, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.is(report.healthy, false);
  assert.ok(report.findings.some((f: any) => f.id === "docker-unreachable"));
});

test.run();
