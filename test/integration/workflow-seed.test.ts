// A workflow whose create step has seed: (issue 18 item 2, docs/workflows.md#create), and seed: in
// the project config: the env a run creates starts with the snapshot's volume data, the step
// reports how it was copied, its writes do not reach the env the snapshot came from, and the
// run's throwaway env takes its seeded volume with it.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, tempDir } from "../helpers/cli.ts";
import { freePort, labelled } from "../helpers/docker.ts";
import { events } from "../helpers/events.ts";
import { ONE_VOLUME_COMPOSE } from "../helpers/volume-project.ts";

const tag = Math.random().toString(36).slice(2, 6);
const project = `wfseed-${tag}`;
const home = tempDir("cilo-wfseed-");
const work = tempDir("cilo-wfseed-src-");
const src = join(work, project);
const snap = `wfseed-${tag}`;

function run(args: string[], cwd = src) {
  return cilo(args, { home, cwd });
}

function ok(args: string[], cwd = src) {
  const r = run(args, cwd);
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** The file the db service keeps in its volume, read in a running env. */
const readData = (env: string) => ok(["exec", `${project}:${env}`, "db", "cat", "/data/x"]).stdout.trim();

test.before(async () => {
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, "compose.yml"), ONE_VOLUME_COMPOSE);
  writeFileSync(
    join(src, "seeded.yaml"),
    `version: 1
name: seeded
steps:
  - id: make
    create: { seed: ${snap} }
  - up: { wait: true }
  - name: the seed's data is there
    exec: { service: db, command: 'test "$(cat /data/x)" = from-source' }
  - name: a write of the run's env
    exec: { service: db, command: "echo from-run > /data/x" }
`,
  );
  ok(["init", "--dns-port", String(await freePort())]);
  ok(["create", "source", "--project", project]);
  ok(["up", `${project}:source`, "--wait"]);
  ok(["exec", `${project}:source`, "db", "sh", "-c", "echo from-source > /data/x"]);
  ok(["snapshot", "create", `${project}:source`, "--name", snap]);
});

test("a workflow's create step with seed: starts the env from the snapshot and reports the copy", () => {
  const r = run(["run", "seeded.yaml", "--json"]);
  const ev = events(r.stdout);
  const ends = ev.filter((e) => e.type === "step_end");
  assert.is(r.code, 0, `${r.stderr}\n${ends.map((e) => JSON.stringify(e)).join("\n")}`);
  assert.ok(ends.every((e) => e.outcome === "success"));
  const make = ends.find((e) => e.id === "make");
  console.log(`create step outputs: seed_path=${make.outputs.seed_path} seed_bytes_per_s=${make.outputs.seed_bytes_per_s}`);
  assert.match(make.outputs.seed_path, /^(reflink|copy|tar)$/);
  assert.ok(Number(make.outputs.seed_bytes_per_s) > 0);
  // The run's env was a throwaway: it and its seeded volume are gone; the source kept its data.
  assert.equal(labelled("volume", `cilo.project=${project}`, `cilo.env=${make.outputs.env}`), []);
  assert.is(readData("source"), "from-source");
});

test("seed: in the project config seeds every new env", () => {
  mkdirSync(join(src, ".cilo"), { recursive: true });
  writeFileSync(join(src, ".cilo/config.yml"), `seed: ${snap}\n`);
  const out = JSON.parse(ok(["create", "cfg", "--project", project, "--json"]).stdout);
  assert.is(out.seeded.snapshot, snap);
  ok(["up", `${project}:cfg`, "--wait"]);
  assert.is(readData("cfg"), "from-source");
});

test("a workflow seeded from a snapshot that does not exist fails its create step with the snapshot's error", () => {
  writeFileSync(join(src, "missing.yaml"), "version: 1\nname: missing\nsteps:\n  - id: make\n    create: { seed: no-such-snapshot }\n");
  const r = run(["run", "missing.yaml", "--json"]);
  assert.is.not(r.code, 0);
  const make = events(r.stdout).find((e) => e.type === "step_end" && e.id === "make");
  assert.is(make.outcome, "failure");
  assert.match(make.error, /no-such-snapshot/);
  assert.equal(labelled("container", `cilo.project=${project}`, "cilo.env=missing"), []);
});

test.after(() => {
  for (const e of ["source", "cfg"]) run(["destroy", `${project}:${e}`, "--force"]);
  run(["snapshot", "rm", snap]);
  // Any env a failed run left (none expected) goes with the project's containers.
  for (const id of labelled("container", `cilo.project=${project}`)) execFileSync("docker", ["rm", "-f", id]);
  removeDir(home);
  removeDir(work);
});

test.run();
