// Workflows through the gateway (issue 12 item 8, task E): `cilo.base_url` and `CILO_BASE_URL` are
// the zero-set-up `http://<env>.<project>.localhost:<port>` when the gateway runs, `wait: { http }`
// takes that URL (cilo answers `*.localhost` itself: glibc may not), and the e2e template's tests
// reach the env with no `dns setup` (none is done here: only cilo's own dnsmasq on a high port).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GATEWAY_TEST_ENV, gatewayIds } from "../helpers/gateway.ts";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";

const home = tempDir("cilo-gww-");
const work = tempDir("cilo-gww-src-");
const project = `gww-${Math.random().toString(36).slice(2, 7)}`;
const src = join(work, project);
const out = join(work, "out");
const env = GATEWAY_TEST_ENV;
let gwPort = 0;

function ok(args: string[], cwd = src) {
  const r = cilo(args, { home, cwd, env });
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

test.before(async () => {
  execFileSync("docker", ["info"], { stdio: "ignore" }); // fails (does not skip) without an engine
  mkdirSync(join(src, "www"), { recursive: true });
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(src, "compose.yml"),
    'services:\n  web:\n    image: cilo-test/busybox:latest\n    command: ["httpd", "-f", "-p", "80", "-h", "/www"]\n    volumes:\n      - ./www:/www:ro\n',
  );
  writeFileSync(join(src, "www/index.html"), "the page\n");
  gwPort = await freePort();
  ok(["init", "--dns-port", String(await freePort()), "--gateway-http-port", String(gwPort)]);
});

test.after(() => {
  for (const id of gatewayIds(home)) spawnSync("docker", ["rm", "-f", id]);
  removeDir(home);
  removeDir(work);
});

test("the e2e template: BASE_URL is the .localhost URL, wait: { http } takes it, the test command fetches the page by name", () => {
  ok(["workflow", "new", "--template", "e2e", "--output", "e2e.yaml"]);
  const template = readFileSync(join(src, "e2e.yaml"), "utf8");
  // One step more than the template: wait until the base URL itself answers.
  writeFileSync(
    join(src, "e2e.yaml"),
    template.replace("  - name: tests\n", '  - name: the base URL answers\n    wait: { http: "${{ cilo.base_url }}/", timeout: 1m }\n  - name: tests\n'),
  );
  const testCmd = `curl -sf "$BASE_URL/" > ${join(out, "page")} && echo "$BASE_URL $CILO_BASE_URL" > ${join(out, "urls")}`;
  const r = ok(["run", "e2e.yaml", "--var", "env=w1", "--var", `test=${testCmd}`]);
  assert.is(readFileSync(join(out, "page"), "utf8"), "the page\n", r.stdout);
  const want = `http://w1.${project}.localhost:${gwPort}`;
  assert.is(readFileSync(join(out, "urls"), "utf8").trim(), `${want} ${want}`);
  assert.not.match(ok(["list", "--json"]).stdout, '"w1"', "the template destroyed its env");
});

test.run();
