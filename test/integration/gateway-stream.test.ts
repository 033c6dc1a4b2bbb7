// The gateway (issue 12) carries streams unbuffered: a 50 MB download and a 20 MB upload arrive
// byte-identical, server-sent events arrive one by one (not at the end), and a WebSocket-style
// upgrade (101) tunnels bytes both ways. Guards the gateway's config and container (two Caddy
// processes, GOMAXPROCS=1: docs/routing.md, "What the gateway costs") against buffering.
import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ciloRunner, removeDir, tempDir } from "../helpers/cli.ts";
import { GATEWAY_TEST_ENV, getByName, initGatewayHome, removeGateways, writeHttpdProject } from "../helpers/gateway.ts";
import { pollValue } from "../helpers/until.ts";

const home = tempDir("cilo-gws-");
const work = tempDir("cilo-gws-src-");
const project = `gws-${Math.random().toString(36).slice(2, 7)}`;
const src = join(work, project);
const env = GATEWAY_TEST_ENV;
const big = randomBytes(50 * 1024 * 1024);
let gwPort = 0;

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const { run, ok } = ciloRunner({ home, cwd: src, env });

/** One request through the gateway by Host header; the body's chunks with the ms they arrived at. */
function through(
  host: string,
  path: string,
  body?: Buffer,
): Promise<{ status: number; body: Buffer; chunks: { at: number; text: string }[]; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: "127.0.0.1", port: gwPort, path, method: body ? "POST" : "GET", headers: { Host: host } }, (res) => {
      const parts: Buffer[] = [];
      const chunks: { at: number; text: string }[] = [];
      res.on("data", (c: Buffer) => {
        parts.push(c);
        if (chunks.length < 50) chunks.push({ at: performance.now() - t0, text: c.toString("utf8").slice(0, 100) });
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), chunks, headers: res.headers }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

test.before(async () => {
  execFileSync("docker", ["info"], { stdio: "ignore" });
  mkdirSync(join(src, "www/cgi-bin"), { recursive: true });
  writeFileSync(join(src, "www/big.bin"), big);
  // Server-sent events: one event, 3 s, another (busybox httpd relays CGI output as it comes).
  writeFileSync(
    join(src, "www/cgi-bin/sse"),
    '#!/bin/sh\nprintf "Content-Type: text/event-stream\\r\\nCache-Control: no-cache\\r\\n\\r\\n"\necho "data: one"; echo\nsleep 3\necho "data: two"; echo\n',
  );
  // An upload: the sha256 and size of the request body.
  writeFileSync(join(src, "www/cgi-bin/sum"), '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nhead -c "$CONTENT_LENGTH" | sha256sum\n');
  // A WebSocket-style upgrade: answer 101, then echo every byte back (busybox nc, one per connection).
  writeFileSync(
    join(src, "ws.sh"),
    '#!/bin/sh\nwhile read -r line; do [ "$(printf %s "$line" | tr -d "\\r")" = "" ] && break; done\nprintf "HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n\\r\\n"\nexec cat\n',
  );
  for (const f of ["www/cgi-bin/sse", "www/cgi-bin/sum", "ws.sh"]) chmodSync(join(src, f), 0o755);
  writeHttpdProject(
    src,
    "streams\n",
    [
      "  ws:",
      "    image: cilo-test/busybox:latest",
      '    command: ["nc", "-ll", "-p", "80", "-e", "/ws.sh"]',
      "    volumes:",
      "      - ./ws.sh:/ws.sh:ro",
      "",
    ].join("\n"),
  );
  ({ gwPort } = await initGatewayHome(ok));
  ok(["create", "a"]);
  ok(["up", "a"]);
  const r = await pollValue(
    () => getByName(`web.a.${project}.localhost`, gwPort, { path: "/cgi-bin/sum" }),
    (x) => x.status === 200,
  );
  assert.is(r.status, 200, `web.a: ${r.status} ${r.body}`);
});

test.after(() => {
  run(["destroy", "a", "--force"]);
  removeGateways(home);
  removeDir(home);
  removeDir(work);
});

test("a 50 MB download arrives byte-identical", async () => {
  const r = await through(`web.a.${project}.localhost`, "/big.bin");
  assert.is(r.status, 200);
  assert.is(r.body.length, big.length);
  assert.is(sha(r.body), sha(big));
});

test("a 20 MB upload reaches the service whole", async () => {
  const up = big.subarray(0, 20 * 1024 * 1024);
  const r = await through(`web.a.${project}.localhost`, "/cgi-bin/sum", up);
  assert.is(r.status, 200, r.body.toString());
  assert.is(r.body.toString().split(/\s/)[0], sha(up));
});

test("server-sent events arrive as they are sent, not when the stream ends", async () => {
  const r = await through(`web.a.${project}.localhost`, "/cgi-bin/sse");
  assert.is(r.status, 200);
  assert.match(String(r.headers["content-type"]), /text\/event-stream/);
  const first = r.chunks.find((c) => c.text.includes("data: one"));
  const last = r.chunks.find((c) => c.text.includes("data: two"));
  assert.ok(first && last, JSON.stringify(r.chunks));
  assert.ok(last.at - first.at >= 2000, `the first event came ${Math.round(last.at - first.at)} ms before the second (expected about 3000): buffered`);
});

test("an upgraded connection (WebSocket handshake, 101) carries bytes both ways", async () => {
  const sock = connect(gwPort, "127.0.0.1");
  let got = "";
  sock.on("data", (d) => {
    got += d.toString("latin1");
  });
  await new Promise((res) => sock.once("connect", res));
  sock.write(
    `GET /chat HTTP/1.1\r\nHost: ws.a.${project}.localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const until = async (what: string) => {
    const end = Date.now() + 10_000;
    while (!got.includes(what) && Date.now() < end) await new Promise((res) => setTimeout(res, 20));
    return got.includes(what);
  };
  assert.ok(await until("\r\n\r\n"), `no answer: ${JSON.stringify(got)}`);
  assert.match(got, /^HTTP\/1\.1 101 /);
  for (const msg of ["hello over the tunnel\n", "and again\n"]) {
    sock.write(msg);
    assert.ok(await until(msg), `not echoed: ${JSON.stringify(got)}`);
  }
  sock.destroy();
});

test.run();
