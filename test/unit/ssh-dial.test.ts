// The ssh:// transport's connections (src/providers/docker/ssh-dial.ts, docs/remote.md): each is one
// `ssh … docker system dial-stdio`, kept for the next request. A fake `ssh` first on PATH answers
// HTTP on its stdin/stdout as dial-stdio would and logs its pid, so the test counts the ssh
// processes a sequence of requests starts.
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { sshDialAgent } from "../../src/providers/docker/ssh-dial.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";

/** A fake `ssh` in `dir`: appends its pid to `dir/ssh.log`, then answers every GET on stdin with 200 "OK", keep-alive. */
function fakeSsh(dir: string): NodeJS.ProcessEnv {
  const script = join(dir, "ssh");
  writeFileSync(
    script,
    `#!${process.execPath}
require("node:fs").appendFileSync(${JSON.stringify(join(dir, "ssh.log"))}, process.pid + "\\n");
let buf = "";
process.stdin.on("data", (d) => {
  buf += d;
  let at;
  while ((at = buf.indexOf("\\r\\n\\r\\n")) >= 0) {
    buf = buf.slice(at + 4);
    process.stdout.write("HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: keep-alive\\r\\n\\r\\nOK");
  }
});
process.stdin.on("end", () => process.exit(0));
`,
  );
  chmodSync(script, 0o755);
  return { ...process.env, PATH: `${dir}:${process.env["PATH"]}` };
}

const sshPids = (dir: string): number[] => readFileSync(join(dir, "ssh.log"), "utf8").split("\n").filter(Boolean).map(Number);

function request(agent: ReturnType<typeof sshDialAgent>): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ agent, host: "docker", path: "/_ping" }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve(body));
      res.on("error", reject);
    }).on("error", reject);
  });
}

test("requests that follow each other share one ssh; one whose ssh ended while idle is replaced", async () => {
  const dir = tempDir("cilo-ssh-dial-");
  try {
    const agent = sshDialAgent("ssh://me@box", fakeSsh(dir));
    assert.is(await request(agent), "OK");
    assert.is(await request(agent), "OK");
    assert.is(await request(agent), "OK");
    assert.is(sshPids(dir).length, 1, "three requests in a row, one ssh");
    // The kept connection's ssh goes away (a host that restarted, a link cut): the agent drops it.
    process.kill(sshPids(dir)[0]!, "SIGKILL");
    for (let i = 0; i < 100 && Object.keys(agent.freeSockets).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.is(Object.keys(agent.freeSockets).length, 0, "the dead connection is no longer offered");
    assert.is(await request(agent), "OK");
    assert.is(sshPids(dir).length, 2, "a new ssh for the next request");
    agent.destroy();
  } finally {
    removeDir(dir);
  }
});

test("a kept connection does not keep the command running", () => {
  const dir = tempDir("cilo-ssh-dial-");
  try {
    const env = fakeSsh(dir);
    const code = `
      import { get } from "node:http";
      import { sshDialAgent } from ${JSON.stringify(new URL("../../src/providers/docker/ssh-dial.ts", import.meta.url).href)};
      const agent = sshDialAgent("ssh://box", process.env);
      get({ agent, host: "docker", path: "/_ping" }, (res) => { res.resume(); res.on("end", () => console.log("answered")); });
    `;
    const started = Date.now();
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { env, encoding: "utf8", timeout: 8000 });
    assert.is(r.stdout.trim(), "answered", r.stderr);
    assert.is(r.status, 0, r.stderr);
    // SSH_IDLE_MS (10 s) would be the wait if the idle ssh held the event loop.
    assert.ok(Date.now() - started < 6000, `exited after ${Date.now() - started} ms`);
    assert.is(sshPids(dir).length, 1);
  } finally {
    removeDir(dir);
  }
});

test.run();
