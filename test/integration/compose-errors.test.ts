// Compose failures readable where they happen (issue 14 items 3b, 3e), with the real compose CLI:
// an invalid compose file shows compose's whole message at the user's file and line (not the
// workspace copy under $CILO_HOME); an image that cannot be pulled is named with its service.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, type CliResult, removeDir, tempDir } from "../helpers/cli.ts";
import { freePort, labelled } from "../helpers/docker.ts";

const rand = Math.random().toString(36).slice(2, 7);
const home = tempDir("cilo-cerr-");
const work = tempDir("cilo-cerr-src-");
const invalid = join(work, `cerr-bad-${rand}`);
const pulls = join(work, `cerr-pull-${rand}`);

function run(args: string[], cwd: string): CliResult {
  return cilo(args, { home, cwd });
}

// A running busybox service, then what each test adds to it.
const WEB = `services:
  web:
    image: cilo-test/busybox:latest
    command: ["sleep", "3600"]
`;

function writeProject(dir: string, compose: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "docker-compose.yml"), compose);
}

test.before(async () => {
  writeProject(invalid, `${WEB}    ports: "abc"\n    foo: bar\n`);
  writeProject(pulls, `${WEB}  api:\n    image: cilo-test/does-not-exist:1\n`);
  const r = run(["init", "--dns-port", String(await freePort())], work);
  assert.is(r.code, 0, r.stderr);
});

test.after(() => {
  run(["destroy", `cerr-pull-${rand}:e1`, "--force"], work);
  run(["dns", "stop"], work);
  for (const d of [home, work]) removeDir(d);
});

test("an invalid compose file: compose's whole message, each issue at the user's file and line", () => {
  const r = run(["create", "e1"], invalid);
  assert.is(r.code, 2, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.is(lines.length, 1, r.stderr);
  const file = join(invalid, "docker-compose.yml");
  assert.is(
    lines[0],
    `cilo: The compose project in ${invalid} is invalid: ${file}:5: services.web.ports contains an invalid type, it should be an array; ${file}:6: Unsupported config option for services.web: 'foo'`,
  );
  assert.not.match(r.stderr, home, "the workspace copy under $CILO_HOME is not named");
  assert.is(run(["list", "--format", "quiet"], work).stdout.trim(), "", "nothing is recorded");
});

test("an image that cannot be pulled is named with its service", () => {
  assert.is(run(["create", "e1"], pulls).code, 0);
  const r = run(["up", "e1"], pulls);
  assert.is(r.code, 1, r.stderr);
  const [message, hint] = r.stderr.trimEnd().split("\n");
  assert.match(
    message!,
    new RegExp(`^cilo: Starting cerr-pull-${rand}/e1 failed: the image cilo-test/does-not-exist:1 of service api could not be pulled: \\S`),
  );
  assert.is(
    hint,
    "hint: Check the image name, or make cilo-test/does-not-exist:1 available to the engine (docker pull, docker load or docker build), then up again",
  );
  assert.is(run(["destroy", "e1", "--force"], pulls).code, 0);
  assert.equal(labelled("container", `cilo.project=cerr-pull-${rand}`), []);
});

test.run();
