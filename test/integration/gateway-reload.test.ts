// The gateway loses nothing when its config changes (issue 12, task E): a client that keeps its
// connections alive and never retries sees zero failed requests while other envs come up and go
// down (each a config change: networks joined and left, routes reloaded). Counts, not timings.
import { execFileSync, spawnSync } from "node:child_process";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { GATEWAY_TEST_ENV, writeHttpdProject, gatewayIds } from "../helpers/gateway.ts";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, ciloAsync, removeDir, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";

const home = tempDir("cilo-gwr-");
const work = tempDir("cilo-gwr-src-");
const project = `gwr-${Math.random().toString(36).slice(2, 7)}`;
const src = join(work, project);
const env = GATEWAY_TEST_ENV;
const CYCLES = 2; // each: up b, down b = two config changes
const CONNECTIONS = 4;
let gwPort = 0;

function ok(args: string[]) {
  const r = cilo(args, { home, cwd: src, env });
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stderr}`);
  return r;
}
async function okAsync(args: string[]) {
  const r = await ciloAsync(args, { home, cwd: src, env });
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stderr}`);
}

/** One GET through the gateway by name on a kept-alive connection; no retry of any kind. */
function get(agent: Agent, host: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port: gwPort, path: "/", headers: { Host: host }, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    });
    req.on("error", (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end();
  });
}

test.before(async () => {
  execFileSync("docker", ["info"], { stdio: "ignore" }); // fails (does not skip) without an engine
  writeHttpdProject(src, "page\n");
  gwPort = await freePort();
  ok(["init", "--dns-port", String(await freePort()), "--gateway-http-port", String(gwPort)]);
  ok(["create", "a"]);
  ok(["create", "b"]);
});

test.after(() => {
  for (const e of ["a", "b"]) cilo(["destroy", e, "--force"], { home, cwd: src, env });
  for (const id of gatewayIds(home)) spawnSync("docker", ["rm", "-f", id]);
  removeDir(home);
  removeDir(work);
});

test(`zero failed requests on ${CONNECTIONS} keep-alive connections while another env comes up and goes down ${CYCLES} times`, async () => {
  ok(["up", "a"]);
  const host = `web.a.${project}.localhost`;
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  assert.is((await get(agent, host)) && ((await get(agent, host)) as { status: number }).status, 200);
  let stop = false;
  let okCount = 0;
  const failed: string[] = [];
  const clients = Array.from({ length: CONNECTIONS }, async () => {
    while (!stop) {
      const r = await get(agent, host);
      if ("error" in r) failed.push(r.error);
      else if (r.status !== 200 || r.body !== "page\n") failed.push(`${r.status} ${r.body.trim()}`);
      else okCount++;
      // A short pause leaves connections idle between requests: that is when a reload closed them.
      await new Promise((r) => setTimeout(r, 2));
    }
  });
  const seen: number[] = [];
  try {
    for (let i = 0; i < CYCLES; i++) {
      await okAsync(["up", "b"]);
      const b = await get(new Agent(), `web.b.${project}.localhost`);
      assert.is("status" in b ? b.status : b.error, 200, "the new env answers: the config changed");
      seen.push(okCount);
      await okAsync(["down", "b"]);
      const down = await get(new Agent(), `web.b.${project}.localhost`);
      assert.is("status" in down ? down.status : down.error, 503, "the stopped env answers 503: the config changed");
      seen.push(okCount);
    }
  } finally {
    stop = true;
    await Promise.all(clients);
    agent.destroy();
  }
  console.log(`  ${okCount} requests answered, ${failed.length} failed, across ${CYCLES * 2} config changes`);
  assert.equal(failed, [], `failed requests: ${failed.slice(0, 5).join(", ")}`);
  // Requests really flowed through every change (not a client that stalled).
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `requests between changes: ${seen.join(" ")}`);
  const [gw] = gatewayIds(home);
  assert.is(execFileSync("docker", ["inspect", "-f", "{{.RestartCount}}", gw!], { encoding: "utf8" }).trim(), "0", "the gateway never restarted");
});

test.run();
