// The gateway's HTTPS (issue 12 item 5): every name over TLS and HTTP/2 with certificates from the
// CA cilo keeps per home, trusted by curl with only that CA file; the CA survives the gateway;
// workflow run: steps trust it with no flags; cilo trust --root / --uninstall --root.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GATEWAY_TEST_ENV, writeHttpdProject, gatewayIds } from "../helpers/gateway.ts";
import { pollValue } from "../helpers/until.ts";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";

const home = tempDir("cilo-gwtls-");
const work = tempDir("cilo-gwtls-src-");
const suffix = Math.random().toString(36).slice(2, 7);
const project = `gwtls-${suffix}`;
const src = join(work, project);
const env = GATEWAY_TEST_ENV;
const caFile = join(home, "gateway", "ca.crt");
let httpPort = 0;
let httpsPort = 0;

function run(args: string[], extraEnv: Record<string, string> = {}) {
  return cilo(args, { home, cwd: src, env: { ...env, ...extraEnv } });
}
function ok(args: string[], extraEnv: Record<string, string> = {}) {
  const r = run(args, extraEnv);
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** curl over HTTPS trusting only cilo's CA file (no -k): body, HTTP version, exit code. */
function curlTls(host: string, extra: string[] = []): { code: number; body: string; version: string; stderr: string } {
  const r = spawnSync("curl", ["-sS", "--max-time", "5", "--cacert", caFile, ...extra, "-o", "-", "-w", "\n%{http_version}", `https://${host}:${httpsPort}/`], {
    encoding: "utf8",
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
  });
  const text = r.stdout ?? "";
  const cut = text.lastIndexOf("\n");
  return { code: r.status ?? -1, body: text.slice(0, cut), version: text.slice(cut + 1), stderr: r.stderr ?? "" };
}

test.before(async () => {
  // Fails (does not skip) when the engine is missing: CI must not pass without it.
  execFileSync("docker", ["info"], { stdio: "ignore" });
  writeHttpdProject(src, "tls page\n");
  httpPort = await freePort();
  httpsPort = await freePort();
  ok(["init", "--dns-port", String(await freePort()), "--gateway-http-port", String(httpPort), "--gateway-https-port", String(httpsPort)]);
});

test.after(() => {
  for (const e of ["a", "w"]) run(["destroy", e, "--force"]);
  for (const id of gatewayIds(home)) spawnSync("docker", ["rm", "-f", id]);
  removeDir(home);
  removeDir(work);
});

test("an env answers https://web.<env>.<project>.localhost:<port>/ with only cilo's CA file, over HTTP/2; HTTP still answers", async () => {
  ok(["create", "a"]);
  ok(["up", "a"]);
  assert.ok(existsSync(caFile), "the CA is in $CILO_HOME/gateway/ca.crt");
  const r = await pollValue(
    () => curlTls(`web.a.${project}.localhost`, ["--http2"]),
    (x) => x.code === 0,
  );
  assert.is(r.code, 0, r.stderr);
  assert.is(r.body, "tls page\n");
  assert.is(r.version, "2", "HTTP/2 negotiated over TLS");
  // Without the CA, curl refuses (the certificate is really checked).
  const untrusted = spawnSync("curl", ["-sS", "--max-time", "5", "--cacert", "/dev/null", `https://web.a.${project}.localhost:${httpsPort}/`], {
    encoding: "utf8",
  });
  assert.is.not(untrusted.status, 0);
  const http = spawnSync("curl", ["-s", "--max-time", "5", `http://web.a.${project}.localhost:${httpPort}/`], { encoding: "utf8" });
  assert.is(http.stdout, "tls page\n", "plain HTTP keeps working");
  // The .test-style name is served over TLS too (curl stands in for a resolver with --resolve).
  const viaTest = curlTls("web.a.test", ["--resolve", `web.a.test:${httpsPort}:127.0.0.1`]);
  assert.is(viaTest.body, "tls page\n", viaTest.stderr);
});

test("the CA survives the gateway: removed by hand, restored by doctor --fix, the same CA file still verifies", async () => {
  const before = readFileSync(caFile, "utf8");
  for (const id of gatewayIds(home)) execFileSync("docker", ["rm", "-f", id]);
  assert.is.not(curlTls(`web.a.${project}.localhost`).code, 0, "nothing answers");
  ok(["doctor", "--fix"]);
  const r = await pollValue(
    () => curlTls(`web.a.${project}.localhost`),
    (x) => x.code === 0,
  );
  assert.is(r.body, "tls page\n", r.stderr);
  assert.is(readFileSync(caFile, "utf8"), before, "the same root");
  assert.is(gatewayIds(home).length, 1);
});

test("a workflow run: step curls https with no flags (SSL_CERT_FILE & co. point at the bundle)", () => {
  const wf = join(src, "tls.yaml");
  writeFileSync(
    wf,
    [
      "version: 1",
      "name: tls",
      "steps:",
      "  - create: { env: w }",
      "  - up: {}",
      `  - run: curl -sS --max-time 5 https://web.w.${project}.localhost:${httpsPort}/ > out.txt && echo "$SSL_CERT_FILE" > bundle.txt`,
      "",
    ].join("\n"),
  );
  const r = ok(["run", wf, "--keep"]);
  const ws = ok(["path", "w"]).stdout.trim();
  assert.is(readFileSync(join(ws, "out.txt"), "utf8"), "tls page\n", r.stdout);
  assert.is(readFileSync(join(ws, "bundle.txt"), "utf8").trim(), join(home, "gateway", "ca-bundle.pem"));
  // cilo run <command> <env> gets the same.
  const c = ok(["run", `curl -sS --max-time 5 https://web.w.${project}.localhost:${httpsPort}/`, "w"]);
  assert.is(c.stdout, "tls page\n", c.stderr);
});

test("cilo trust --root writes the CA anchor; --uninstall --root removes only what it wrote; --print names the file", () => {
  const root = tempDir("cilo-gwtls-root-");
  try {
    mkdirSync(join(root, "usr/local/share/ca-certificates"), { recursive: true });
    writeFileSync(join(root, "usr/local/share/ca-certificates/cilo-other.crt"), "someone else's\n");
    const id = JSON.parse(readFileSync(join(home, "state.json"), "utf8")).home_id;
    const anchor = join(root, "usr/local/share/ca-certificates", `cilo-${id}.crt`);
    const t = ok(["trust", "--root", root]);
    assert.match(t.stdout, `wrote ${anchor}`);
    assert.match(t.stdout, "Now run: sudo update-ca-certificates");
    assert.ok(readFileSync(anchor, "utf8").endsWith(readFileSync(caFile, "utf8")));
    assert.match(ok(["trust", "--root", root]).stdout, `unchanged ${anchor}`);
    const p = ok(["trust", "--print"]);
    assert.match(p.stdout, caFile);
    assert.match(p.stdout, "security add-trusted-cert");
    assert.match(p.stdout, "certutil -addstore");
    assert.match(p.stdout, "Firefox");
    const u = ok(["trust", "--uninstall", "--root", root]);
    assert.match(u.stdout, `removed ${anchor}`);
    assert.match(u.stdout, "kept");
    assert.not.ok(existsSync(anchor));
    assert.ok(existsSync(join(root, "usr/local/share/ca-certificates/cilo-other.crt")), "a file cilo did not write stays");
    // dns teardown removes what trust installed too.
    ok(["trust", "--root", root]);
    const d = ok(["dns", "teardown", "--root", root]);
    assert.match(d.stdout, `removed ${anchor}`);
    assert.not.ok(existsSync(anchor));
  } finally {
    removeDir(root);
  }
});

test.run();
