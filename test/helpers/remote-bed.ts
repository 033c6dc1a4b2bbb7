// Shared by the integration tests of remote hosts (issue 17, docs/remote.md) and of the gateway on
// another engine: the test bed (scripts/test-remote.sh over scripts/test-second-engine.sh: the
// second engine `cilo-e2` in its network namespace, reached at tcp://10.213.77.2:2375 and over
// ssh://root@10.213.77.2), started in a test's `before`; the project the remote-names tests run
// there; and the TCP echo their forwards are proven with.
import { spawnSync } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import * as assert from "uvu/assert";
import { cpSync, writeFileSync } from "node:fs";
import { repoRoot } from "./cli.ts";
import { freePort } from "./docker.ts";
import { writeHttpdProject } from "./gateway.ts";
import { stateDoc } from "./state-files.ts";

/** The bed's address: its engine's and its sshd's, as this machine reaches them. */
export const BED_ADDR = "10.213.77.2";
export const BED_TCP = `tcp://${BED_ADDR}:2375`;
export const BED_SSH = `ssh://root@${BED_ADDR}`;
/** The environment of `docker` on the bed's engine (tcp://), for a test's own inspection. */
export const BED_DOCKER_ENV: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: BED_TCP, DOCKER_CONTEXT: "" };

/** `docker <args>` on the bed's engine (tcp://), this test's inspection path: its trimmed output; the test fails when it fails. */
export function bedDocker(args: string[]): string {
  const r = spawnSync("docker", args, { env: BED_DOCKER_ENV, encoding: "utf8" });
  assert.is(r.status, 0, `docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The running container of `service` of the env `envName` of `home` on the bed's engine ("" when none). */
export function bedContainer(home: string, envName: string, service: string): string {
  const labels = [`cilo.home=${stateDoc(home)["home_id"]}`, `cilo.env=${envName}`, `com.docker.compose.service=${service}`];
  return bedDocker(["ps", "-q", ...labels.flatMap((l) => ["--filter", `label=${l}`])]);
}

/**
 * The remote-workspace tests' set-up (`ok` runs cilo in their home and expects exit 0): the project
 * examples/basic copied to `project` with a .ciloignore (`*.log` but `keep.log`), the home made,
 * and the host `name` added at `address` with the remote root `root`.
 */
export async function initRemoteWorkspaceHome(ok: (args: string[]) => unknown, project: string, name: string, address: string, root: string): Promise<void> {
  cpSync(join(repoRoot, "examples/basic"), project, { recursive: true });
  writeFileSync(join(project, ".ciloignore"), "*.log\n!keep.log\n");
  ok(["init", "--dns-port", String(await freePort())]);
  ok(["host", "add", name, address, "--remote-root", root]);
}

/** A bed of a test's own: CILO_E2_NAME, CILO_E2_NET, CILO_E2_BIP, CILO_REMOTE_DIR (the scripts' overrides). */
export type BedOverrides = Record<string, string>;

/**
 * Runs `scripts/<script> <arg>` with `bed`'s overrides: test-remote.sh (engine and sshd) or
 * test-second-engine.sh (the engine only). A failure fails the test, never skips it: CI must not
 * pass without the bed. `start` is idempotent and leaves the bed running for other test files.
 */
export function bedScript(script: "test-remote.sh" | "test-second-engine.sh", arg: string, bed: BedOverrides = {}): void {
  const r = spawnSync("bash", [join(repoRoot, "scripts", script), arg], { encoding: "utf8", timeout: 300_000, env: { ...process.env, ...bed } });
  assert.is(r.status, 0, `${script} ${arg} → ${r.status}\n${r.stdout}\n${r.stderr}`);
}

/** In a test's `before`: the shared bed, engine and sshd, started when they do not answer. */
export function startRemoteBed(): void {
  bedScript("test-remote.sh", "start");
}

/** A compose service answering TCP on 7000 (a `cilo.tcp` forward): its name, then what it is sent. */
export const ECHO_SERVICE = [
  "  echo:",
  "    image: cilo-test/busybox:latest",
  '    command: ["nc", "-ll", "-p", "7000", "-e", "sh", "-c", "echo remote-echo; exec cat"]',
  "    labels:",
  '      cilo.tcp: "7000"',
  "",
].join("\n");

/** The remote-names tests' project in `src`: `web` (httpd serving www/, whose index.html is `page`) and `echo`. */
export function writeWebEchoProject(src: string, page: string): void {
  writeHttpdProject(src, page, ECHO_SERVICE);
}

/** Sends a line to host:port; the echo service answers with its name, then echoes. "" when nothing answers. */
export function echoLine(host: string, port: number, line: string, ms = 5_000): Promise<string> {
  return new Promise((resolve) => {
    let got = "";
    const s = connect({ host, port });
    const done = () => {
      s.destroy();
      resolve(got);
    };
    s.setEncoding("utf8");
    s.on("data", (d: string) => {
      got += d;
      if (got.includes(`${line}\n`)) done();
    });
    s.on("connect", () => s.write(`${line}\n`));
    s.on("error", done);
    s.on("close", done);
    setTimeout(done, ms);
  });
}
