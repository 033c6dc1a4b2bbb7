// A host's engine restarted (issue 17 item 5, docs/remote.md "Faults"): `doctor --fix` recovers an
// env on it as it does a local env, and its names answer again through the ssh forward.
//
// The shared test bed's second engine serves every test running at the same time, so this file
// starts an engine of its own with the same scripts (scripts/test-remote.sh with CILO_E2_NAME,
// CILO_E2_NET and CILO_REMOTE_DIR: its own network namespace, dockerd, sshd and keys), restarts
// that dockerd by its pid file, and removes all of it at the end (`stop`, then `purge`).
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ciloRunner, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { GATEWAY_TEST_ENV, getByName, initGatewayHome, removeGateways, writeHttpdProject } from "../helpers/gateway.ts";
import { bedScript } from "../helpers/remote-bed.ts";
import { pollValue } from "../helpers/until.ts";

const n = process.pid % 90;
const NAME = `cilo-rf${n}`;
const bed = {
  CILO_E2_NAME: NAME,
  CILO_E2_NET: `10.213.${150 + n}`,
  CILO_E2_BIP: "172.29.0.1/16",
  CILO_REMOTE_DIR: `/run/cilo-test-${NAME}`,
};
const ADDR = `${bed.CILO_E2_NET}.2`;
const home = tempDir("cilo-hostfaults-");
const work = tempDir("cilo-hostfaults-src-");
const project = `hf-${Math.random().toString(36).slice(2, 7)}`;
const src = join(work, project);
const ROOT = `/srv/cilo-remote-faults-${process.pid}`;
const env = {
  ...GATEWAY_TEST_ENV,
  PATH: `${bed.CILO_REMOTE_DIR}/bin:${process.env["PATH"]}`,
  DOCKER_CONTEXT: "",
  CILO_HELPER_IMAGE: "cilo-test/busybox:latest",
};
let gwPort = 0;

const { run, ok } = ciloRunner({ home, cwd: src, env, timeoutMs: 240_000 });
const web = () => getByName(`web.e1.${project}.localhost`, gwPort);

test.before(async () => {
  bedScript("test-remote.sh", "start", bed);
  writeHttpdProject(src, `page of ${project}\n`);
  ({ gwPort } = await initGatewayHome(ok));
  ok(["host", "add", "r1", `ssh://root@${ADDR}`, "--remote-root", ROOT]);
});

test.after(() => {
  run(["destroy", "e1", "--force"]);
  removeGateways(home);
  removeDir(home);
  removeDir(work);
  rmSync(ROOT, { recursive: true, force: true });
  spawnSync("bash", [join(repoRoot, "scripts/test-remote.sh"), "stop"], { env: { ...process.env, ...bed } });
  spawnSync("bash", [join(repoRoot, "scripts/test-second-engine.sh"), "purge"], { env: { ...process.env, ...bed } });
  rmSync(bed.CILO_REMOTE_DIR, { recursive: true, force: true });
});

test("the host's engine restarted: its containers stopped, doctor says so, --fix starts the env again and its name answers", async () => {
  ok(["create", "e1", "--on", "r1"]);
  ok(["up", "e1"]);
  assert.is((await pollValue(web, (x) => x.status === 200)).body, `page of ${project}\n`);
  // Restart the engine: its dockerd by its pid file, then the script's idempotent start.
  const pid = Number(readFileSync(`/var/run/${NAME}.pid`, "utf8").trim());
  process.kill(pid, "SIGTERM");
  await pollValue(
    () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    },
    (alive) => !alive,
    { timeoutMs: 60_000 },
  );
  bedScript("test-second-engine.sh", "start", bed);
  assert.is.not(web().status, 200, "the env's container stopped with the engine");
  const report = JSON.parse(run(["doctor", "--json"]).stdout);
  const ids = report.findings.map((f: { id: string }) => f.id);
  assert.ok(ids.includes("env-service-exited"), JSON.stringify(ids));
  const fixed = run(["doctor", "--fix"]);
  assert.is(fixed.code, 0, `doctor --fix → ${fixed.code}\n${fixed.stdout}${fixed.stderr}`);
  assert.match(fixed.stdout, /env-service-exited\s+\S+\/e1: started it again/);
  const r = await pollValue(web, (x) => x.status === 200);
  assert.is(r.body, `page of ${project}\n`, `after the restart: ${r.status} ${r.body}`);
  const status = JSON.parse(ok(["status", "e1", "--json"]).stdout);
  assert.equal(
    status.services.map((s: { name: string; state: string }) => [s.name, s.state]),
    [["web", "running"]],
  );
  assert.is(status.reach.running, true);
  const again = JSON.parse(run(["doctor", "--json"]).stdout);
  assert.equal(
    again.findings.filter((f: { severity: string }) => f.severity !== "info").map((f: { id: string }) => f.id),
    [],
    "healthy after the fix",
  );
});

test.run();
