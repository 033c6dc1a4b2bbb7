// Destroy does not wait out stop timeouts (issue 14 item 5): an env being destroyed is not coming
// back, so its containers stop at once — except a service that asked for time with the label
// `cilo.stop-timeout` or compose's `stop_grace_period`, which gets exactly that first.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, tempDir } from "../helpers/cli.ts";
import { freePort, labelled } from "../helpers/docker.ts";

const rand = Math.random().toString(36).slice(2, 7);
const project = `fastdes-${rand}`;
const home = tempDir("cilo-fastdes-");
const work = tempDir("cilo-fastdes-src-");
// Outside the workspace (destroy deletes that): where the services leave their marks.
const marks = tempDir("cilo-fastdes-marks-");
const src = join(work, project);

// `sleep & wait`: the shell runs its TERM trap at once. Each trap takes 7 s before it writes its
// mark: more than the 5 s cilo used to give every container, less than the label's 20 s.
const trapper = (name: string) => `["sh", "-c", "trap 'sleep 7; echo graceful > /marks/${name}; exit 0' TERM; echo up > /marks/${name}.up; sleep 3600 & wait"]`;
const compose = `services:
  patient:
    image: cilo-test/busybox:latest
    command: ${trapper("patient")}
    labels:
      cilo.stop-timeout: 20s
    volumes: ["${marks}:/marks"]
  graceful:
    image: cilo-test/busybox:latest
    command: ${trapper("graceful")}
    stop_grace_period: 20s
    volumes: ["${marks}:/marks"]
  web:
    image: cilo-test/busybox:latest
    command: ${trapper("web")}
    volumes: ["${marks}:/marks"]
`;

function ok(args: string[]) {
  const r = cilo(args, { home, cwd: src });
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

test.before(async () => {
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, "docker-compose.yml"), compose);
  ok(["init", "--dns-port", String(await freePort())]);
});

test.after(() => {
  cilo(["destroy", `${project}/e1`, "--force"], { home, cwd: src });
  cilo(["dns", "stop"], { home });
  for (const d of [home, work, marks]) removeDir(d);
});

test("destroy gives the services that asked for it their stop time, and the others none", () => {
  ok(["create", "e1"]);
  ok(["up", "e1", "--wait"]);
  for (const s of ["patient", "graceful", "web"]) assert.ok(existsSync(join(marks, `${s}.up`)), `${s} started`);
  ok(["destroy", "e1", "--force"]);
  assert.is(readFileSync(join(marks, "patient"), "utf8").trim(), "graceful", "cilo.stop-timeout: its trap finished");
  assert.is(readFileSync(join(marks, "graceful"), "utf8").trim(), "graceful", "stop_grace_period: its trap finished");
  assert.not.ok(existsSync(join(marks, "web")), "a service that asked for nothing is stopped at once");
  assert.equal(labelled("container", `cilo.project=${project}`), []);
  assert.equal(labelled("network", `cilo.project=${project}`), []);
});

test.run();
