// A host's engine restarted (issue 17 item 5, docs/remote.md "Faults"): `doctor --fix` recovers an
// env on it as it does a local env, and its names answer again through the ssh forward.
//
// The shared test bed's second engine serves every test running at the same time, so this file
// starts an engine of its own with the same scripts (scripts/test-remote.sh with CILO_E2_NAME,
// CILO_E2_NET and CILO_REMOTE_DIR: its own network namespace, dockerd, sshd and keys), restarts
// that dockerd by its pid file, and removes all of it at the end (`stop`, then `purge`).
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";
import { curlGet, GATEWAY_TEST_ENV, gatewayIds } from "../helpers/gateway.ts";
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

const run = (args: string[]) => cilo(args, { home, cwd: src, env, timeoutMs: 240_000 });
function ok(args: string[]) {
  const r = run(args);
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}${r.stderr}`);
  return r;
}
function script(name: string, arg: string) {
  const r = spawnSync("bash", [join(repoRoot, "scripts", name), arg], { encoding: "utf8", timeout: 300_000, env: { ...process.env, ...bed } });
  assert.is(r.status, 0, `${name} ${arg} → ${r.status}\n${r.stdout}\n${r.stderr}`);
}
const web = () => curlGet(`http://web.e1.${project}.localhost:${gwPort}/`);

test.before(async () => {
  script("test-remote.sh", "start");
  mkdirSync(join(src, "www"), { recursive: true });
  writeFileSync(
    join(src, "compose.yml"),
    'services:\n  web:\n    image: cilo-test/busybox:latest\n    command: ["httpd", "-f", "-p", "80", "-h", "/www"]\n    volumes:\n      - ./www:/www:ro\n',
  );
  writeFileSync(join(src, "www/index.html"), `page of ${project}\n`);
  gwPort = await freePort();
  ok(["init", "--dns-port", String(await freePort()), "--gateway-http-port", String(gwPort), "--gateway-https-port", String(await freePort())]);
  ok(["host", "add", "r1", `ssh://root@${ADDR}`, "--remote-root", ROOT]);
});

test.after(() => {
  run(["destroy", "e1", "--force"]);
  for (const id of gatewayIds(home)) spawnSync("docker", ["rm", "-f", id]);
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
  script("test-second-engine.sh", "start");
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
