// TCP forwards (issue 12 item 4): a non-HTTP service port of every env answers at its own stable
// 127.0.0.1:<port> from the home's forward range, through a forward container on the env network.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { schemaAjv, shippedSchema } from "../helpers/schemas.ts";
import { cilo, removeDir, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";

const home = tempDir("cilo-gwtcp-");
const work = tempDir("cilo-gwtcp-src-");
const suffix = Math.random().toString(36).slice(2, 7);
const project = `gwtcp-${suffix}`;
const src = join(work, project);
const env = {
  CILO_GATEWAY: "on",
  CILO_GATEWAY_IMAGE: process.env["CILO_TEST_GATEWAY_IMAGE"] ?? "cilo-test/caddy:latest",
  CILO_FORWARD_IMAGE: process.env["CILO_TEST_IMAGE"] ?? "cilo-test/busybox:latest",
};
let base = 0;
/** Stands in for another program holding the first port of the range. */
let squatter: Server | undefined;
const envs = ["a", "b", "c"];

function run(args: string[], cwd = src) {
  return cilo(args, { home, cwd, env });
}
function ok(args: string[], cwd = src) {
  const r = run(args, cwd);
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stderr}`);
  return r;
}

interface Forward {
  service: string;
  port: number;
  address: string;
  host_port: number;
  variable: string;
}
function forwards(e: string): Forward[] {
  return JSON.parse(ok(["status", e, "--json"]).stdout).forwards;
}

/** An open connection to a forward: what it has received so far. */
interface Conn {
  socket: Socket;
  text(): string;
}
function open(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    let got = "";
    const socket = connect(port, "127.0.0.1");
    socket.setEncoding("utf8");
    socket.on("data", (d) => {
      got += d;
    });
    socket.once("connect", () => resolve({ socket, text: () => got }));
    socket.once("error", reject);
  });
}
async function waitFor(fn: () => boolean, ms = 5_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!fn() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return fn();
}

/** Sends a line through a forward; the echo service answers with its env's id, then echoes. */
async function echo(port: number, line: string, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  let last = "";
  for (;;) {
    try {
      const c = await open(port);
      c.socket.write(`${line}\n`);
      await waitFor(() => c.text().includes(`${line}\n`), 3_000);
      c.socket.destroy();
      if (c.text().includes(`${line}\n`)) return c.text();
      last = `got ${JSON.stringify(c.text())}`;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > end) return `no echo within ${ms} ms: ${last}`;
    await new Promise((r) => setTimeout(r, 200));
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      // A listener that closes at once (no forward) counts as refused too.
      s.once("close", () => resolve(true));
      s.once("data", () => {
        s.destroy();
        resolve(false);
      });
      s.write("x\n");
      setTimeout(() => {
        s.destroy();
        resolve(false);
      }, 2_000);
    });
    s.once("error", () => resolve(true));
  });
}

function homeId(): string {
  return JSON.parse(execFileSync("cat", [join(home, "state.json")], { encoding: "utf8" })).home_id;
}
function forwardContainers(e: string): string[] {
  return execFileSync(
    "docker",
    ["ps", "-aq", "--filter", `label=cilo.home=${homeId()}`, "--filter", "label=cilo.forward=true", "--filter", `label=cilo.env=${e}`],
    {
      encoding: "utf8",
    },
  )
    .split("\n")
    .filter(Boolean);
}

test.before(async () => {
  // Fails (does not skip) when the engine is missing: CI must not pass without it.
  execFileSync("docker", ["info"], { stdio: "ignore" });
  mkdirSync(join(src, "id"), { recursive: true });
  writeFileSync(
    join(src, "compose.yml"),
    [
      "services:",
      "  echo:",
      "    image: cilo-test/busybox:latest",
      '    command: ["nc", "-ll", "-p", "7000", "-e", "sh", "-c", "cat /id/name; exec cat"]',
      "    volumes:",
      "      - ./id:/id:ro",
      "    labels:",
      '      cilo.tcp: "7000"',
      "",
    ].join("\n"),
  );
  writeFileSync(join(src, "id/name"), "source\n");
  do base = await freePort();
  while (base > 65_000);
  squatter = createServer().listen(base, "127.0.0.1");
  await new Promise((r) => squatter!.once("listening", r));
  ok([
    "init",
    "--dns-port",
    String(await freePort()),
    "--gateway-http-port",
    String(await freePort()),
    "--gateway-https-port",
    String(await freePort()),
    "--forward-ports",
    `${base}-${base + 9}`,
  ]);
  for (const e of envs) {
    ok(["create", e]);
    writeFileSync(join(ok(["path", e]).stdout.trim(), "id/name"), `env ${e}\n`);
  }
});

test.after(() => {
  for (const e of envs) run(["destroy", e, "--force"]);
  const id = homeId();
  for (const c of execFileSync("docker", ["ps", "-aq", "--filter", `label=cilo.home=${id}`], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean)) {
    spawnSync("docker", ["rm", "-f", c]);
  }
  squatter?.close();
  removeDir(home);
  removeDir(work);
});

test("two envs' TCP echo services answer at their own forwards; a port another program holds is skipped; status lists them", async () => {
  ok(["up", "a"]);
  // up --json and status --json carry the forwards, as their schemas say.
  const envSchema = shippedSchema("env");
  const upped = ok(["up", "b", "--json"]).stdout;
  assert.ok(envSchema(JSON.parse(upped)), `cilo.env.schema.json: ${schemaAjv.errorsText(envSchema.errors)}`);
  assert.is((JSON.parse(upped) as { forwards?: Forward[] }).forwards?.[0]?.host_port, base + 2);
  const st = ok(["status", "a", "--json"]).stdout;
  assert.ok(envSchema(JSON.parse(st)), `cilo.env.schema.json: ${schemaAjv.errorsText(envSchema.errors)}`);
  const [fa] = forwards("a");
  const [fb] = forwards("b");
  assert.equal(fa, { service: "echo", port: 7000, address: "127.0.0.1", host_port: base + 1, variable: "CILO_ADDR_ECHO_7000" });
  assert.is(fb?.host_port, base + 2);
  assert.is(await echo(base + 1, "ping a"), "env a\nping a\n");
  assert.is(await echo(base + 2, "ping b"), "env b\nping b\n");
  const table = ok(["status", "a"]).stdout;
  assert.match(table, /TCP FORWARD/);
  assert.match(table, new RegExp(`echo\\s+7000\\s+127\\.0\\.0\\.1:${base + 1}\\s+CILO_ADDR_ECHO_7000`));
  assert.is(forwardContainers("a").length, 1);
});

test("cilo run gives the command CILO_ADDR_<SERVICE>_<PORT>; a workflow run: step too", () => {
  const r = ok(["run", 'echo "addr=$CILO_ADDR_ECHO_7000"', "a"]);
  assert.match(r.stdout, `addr=127.0.0.1:${base + 1}`);
  const wf = join(work, "wf.yaml");
  writeFileSync(
    wf,
    [
      "version: 1",
      "name: gwtcp-wf",
      "steps:",
      `  - clone: { from: ./${project} }`,
      "  - create: { env: wf }",
      "  - up: { wait: true, timeout: 2m }",
      '  - run: echo "wf-addr=$CILO_ADDR_ECHO_7000"',
      "  - destroy: {}",
      "    if: always()",
      "",
    ].join("\n"),
  );
  const w = run(["run", wf, "--json"], work);
  assert.is(w.code, 0, w.stderr + w.stdout.slice(-2000));
  const line = w.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .find((e) => e.type === "step_output" && String(e.line).startsWith("wf-addr="));
  assert.is(line?.line, `wf-addr=127.0.0.1:${base + 3}`, "the next free port of the range (a and b hold two)");
  assert.is(forwardContainers("wf").length, 0, "the workflow's destroy removed its forward");
});

test("re-up keeps the port; down releases it and removes the forward; up again takes it back", async () => {
  ok(["up", "a"]);
  assert.is(forwards("a")[0]?.host_port, base + 1);
  assert.is(await echo(base + 1, "again"), "env a\nagain\n");
  ok(["down", "a"]);
  assert.equal(forwards("a"), []);
  assert.is(forwardContainers("a").length, 0);
  assert.ok(await refused(base + 1), "nothing answers on a's port while it is down");
  ok(["up", "a"]);
  assert.is(forwards("a")[0]?.host_port, base + 1);
  assert.is(await echo(base + 1, "back"), "env a\nback\n");
});

test("a forward container removed by hand is forward-missing in doctor; --fix restores it on the same port", async () => {
  for (const id of forwardContainers("a")) execFileSync("docker", ["rm", "-f", id]);
  assert.ok(await refused(base + 1), "nothing answers on a's port");
  const found = JSON.parse(run(["doctor", "--json"]).stdout) as { findings: { id: string; message: string }[] };
  const f = found.findings.find((x) => x.id === "forward-missing");
  assert.ok(f, JSON.stringify(found.findings.map((x) => x.id)));
  assert.match(f.message, `127.0.0.1:${base + 1} -> `);
  ok(["doctor", "--fix"]);
  assert.is(forwardContainers("a").length, 1);
  assert.is(forwards("a")[0]?.host_port, base + 1);
  assert.is(await echo(base + 1, "fixed"), "env a\nfixed\n");
});

test("destroy releases the port for the next env; adding a forward keeps another env's live connection", async () => {
  const live = await open(base + 2);
  live.socket.write("before\n");
  assert.ok(await waitFor(() => live.text() === "env b\nbefore\n"), live.text());
  ok(["destroy", "a"]);
  assert.is(forwardContainers("a").length, 0);
  ok(["up", "c"]);
  assert.is(forwards("c")[0]?.host_port, base + 1, "c takes the port a released");
  assert.is(await echo(base + 1, "ping c"), "env c\nping c\n");
  live.socket.write("after\n");
  assert.ok(await waitFor(() => live.text() === "env b\nbefore\nafter\n"), `b's connection lived on: ${JSON.stringify(live.text())}`);
  live.socket.destroy();
});

test.run();
