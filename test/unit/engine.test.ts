// Choosing the engine (CILO_ENGINE, cilo init --engine, detection from /version), Podman's default
// socket and hints, and the env's recorded engine guarding up/down/destroy (issue 19).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseInitOptions } from "../../src/cli/commands/init.ts";
import { composeFailure, withComposeApiVersion } from "../../src/core/compose/compose-cli.ts";
import { describeEndpoint, readStateHead, resolveDockerEndpoint } from "../../src/core/docker-endpoint.ts";
import {
  configuredEngine,
  engineOfPing,
  engineOfVersion,
  PODMAN_HEALTHCHECK_HINT,
  PODMAN_RLIMIT_HINT,
  podmanDefaultHost,
  podmanServiceHint,
} from "../../src/core/engine.ts";
import { createEnv } from "../../src/core/env/create-env.ts";
import { downEnv } from "../../src/core/env/down-env.ts";
import { upEnv } from "../../src/core/env/up-env.ts";
import { CiloError } from "../../src/core/errors.ts";
import { initState, readState } from "../../src/core/state/store.ts";
import { validateState } from "../../src/core/state/validate.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";
import { testContext } from "../helpers/context.ts";
import { FakeProvider } from "../helpers/fake-provider.ts";
import { waitForServices } from "../../src/core/runtime/wait-services.ts";

const noFiles = () => undefined;

/** A home over the fake engine with one env `env` of a one-service project "shop" (created, not up). */
async function shopEnv(dir: string, env: string) {
  const project = join(dir, "shop");
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, "compose.yml"), "services:\n  web:\n    image: nginx:alpine\n");
  const ctx = testContext({ home: join(dir, "home"), cwd: project });
  ctx.composeFake.model = { name: "shop", services: { web: { image: "nginx:alpine" } } };
  await initState(ctx, {});
  await createEnv(ctx, { env });
  return ctx;
}

test("CILO_ENGINE beats cilo init --engine (config.engine in state.json); neither: undefined (detected); a bad CILO_ENGINE is exit 2", () => {
  const state = (engine: string) => (p: string) => (p === "/h/state.json" ? JSON.stringify({ config: { engine } }) : undefined);
  assert.equal(configuredEngine("/h", { CILO_ENGINE: "podman" }, state("docker")), { engine: "podman", source: "CILO_ENGINE" });
  assert.equal(configuredEngine("/h", {}, state("podman")), { engine: "podman", source: "cilo init --engine" });
  assert.is(configuredEngine("/h", {}, noFiles), undefined);
  assert.is(
    configuredEngine("/h", {}, () => "{not json"),
    undefined,
    "a broken state file is reported by the command reading it",
  );
  try {
    configuredEngine("/h", { CILO_ENGINE: "containerd" }, noFiles);
    assert.unreachable("accepted");
  } catch (e) {
    assert.instance(e, CiloError);
    assert.is((e as CiloError).exitCode, 2);
    assert.match((e as Error).message, /CILO_ENGINE "containerd" must be one of docker, podman/);
  }
});

test("Podman is told from Docker by its /version answer (Components names 'Podman Engine')", () => {
  assert.is(engineOfVersion({ Version: "4.3.1", Components: [{ Name: "Podman Engine", Version: "4.3.1" }, { Name: "Conmon" }] }), "podman");
  assert.is(engineOfVersion({ Version: "20.10.24", Components: [{ Name: "Engine" }, { Name: "containerd" }] }), "docker");
  assert.is(engineOfVersion({ Version: "1.0" }), "docker");
  assert.is(engineOfVersion(null), "docker");
});

test("/_ping's headers name the engine, its version and API version (no /version round trip: seconds on Podman)", () => {
  // Real answers of Podman 4.3.1 and Docker 20.10.24 on this test bed (node lower-cases header names).
  const podman = { "api-version": "1.41", "libpod-api-version": "4.3.1", "docker-experimental": "true", server: "Libpod/4.3.1 (linux)" };
  assert.equal(engineOfPing(podman), { engine: "podman", version: "4.3.1", apiVersion: "1.41" });
  assert.equal(engineOfPing({ "api-version": "1.41", "libpod-api-version": "4.3.1" }), { engine: "podman", version: "4.3.1", apiVersion: "1.41" });
  assert.equal(engineOfPing({ "api-version": "1.41", ostype: "linux", server: "Docker/20.10.24+dfsg1 (linux)" }), {
    engine: "docker",
    version: "20.10.24+dfsg1",
    apiVersion: "1.41",
  });
  // Headers that do not say: undefined, and /version decides.
  assert.is(engineOfPing({ "api-version": "1.41" }), undefined);
  assert.is(engineOfPing({ server: "Docker/20.10.24 (linux)" }), undefined);
  assert.is(engineOfPing({ "api-version": "1.41", server: "nginx/1.25" }), undefined);
  assert.is(engineOfPing({}), undefined);
});

test("with podman chosen and no DOCKER_HOST, the endpoint is Podman's socket (rootful, rootless), not a Docker context", () => {
  const ctxFile = (p: string) => (p.endsWith("config.json") ? JSON.stringify({ currentContext: "colima" }) : undefined);
  const rootful = resolveDockerEndpoint({ DOCKER_CONFIG: "/cfg" }, ctxFile, "podman");
  if (process.getuid?.() === 0) assert.equal(rootful, { host: "unix:///run/podman/podman.sock", source: "podman default" });
  assert.match(describeEndpoint(rootful), /\(Podman's default socket\)$/);
  assert.is(podmanDefaultHost({ XDG_RUNTIME_DIR: "/run/user/1000" }, 1000), "unix:///run/user/1000/podman/podman.sock");
  assert.is(podmanDefaultHost({}, 1001), "unix:///run/user/1001/podman/podman.sock");
  // DOCKER_HOST still wins.
  assert.is(resolveDockerEndpoint({ DOCKER_HOST: "unix:///tmp/p.sock" }, noFiles, "podman").host, "unix:///tmp/p.sock");
});

test("Podman's hints say how to start its API service for that socket", () => {
  assert.match(
    podmanServiceHint("unix:///run/podman/podman.sock"),
    /systemctl start podman\.socket, or podman system service --time=0 unix:\/\/\/run\/podman\/podman\.sock/,
  );
  assert.match(podmanServiceHint("unix:///run/user/1000/podman/podman.sock"), /systemctl --user start podman\.socket/);
  assert.match(podmanServiceHint("unix:///tmp/x/api.sock"), /^Start Podman's API service: podman system service --time=0 unix:\/\/\/tmp\/x\/api\.sock &$/);
});

test("compose failing with Podman's rlimit error gets the containers.conf hint", () => {
  const out =
    "Creating x_web_1 ... error\nERROR: for web  error preparing container abc for attach: runc: runc create failed: unable to start container process: error during container init: error setting rlimits for ready process: error setting rlimit type 7: operation not permitted: OCI permission denied\nERROR: Encountered errors while bringing up the project.\n";
  const e = composeFailure("Starting p/x failed", { code: 1, stdout: "", stderr: out } as never);
  assert.is(e.code, "E_COMPOSE");
  assert.match(e.message, /error setting rlimit type 7/);
  assert.is(e.hint, PODMAN_RLIMIT_HINT);
  assert.match(e.hint!, /default_ulimits = \[\].*CONTAINERS_CONF/);
  assert.is(composeFailure("x", { code: 1, stdout: "", stderr: "ERROR: no such image\n" } as never).hint, undefined);
});

test("cilo init --engine takes docker or podman (else exit 2); state.json refuses another engine", () => {
  assert.equal(parseInitOptions({ engine: "podman" }), { engine: "podman" });
  try {
    parseInitOptions({ engine: "rkt" });
    assert.unreachable("accepted");
  } catch (e) {
    assert.is((e as CiloError).exitCode, 2);
    assert.match((e as Error).message, /--engine "rkt" must be one of docker, podman/);
  }
  const problems = validateState({
    version: 2,
    home_id: "abcdef12",
    config: { subnet_pool: "10.224.0.0/12", subnet_size: 24, dns_port: 5354, dns_suffix: "test", engine: "lxc" },
    envs: {},
  });
  assert.ok(
    problems.some((p) => /config\.engine/.test(p)),
    problems.join("; "),
  );
});

test("up records the engine the env runs on; up or down through another engine is refused (exit 3) and changes nothing", async () => {
  const dir = tempDir();
  try {
    const ctx = await shopEnv(dir, "feat-p");
    ctx.fake.engine = "podman";
    const rec = await upEnv(ctx, { ref: "feat-p" });
    assert.is(rec.engine, "podman");
    assert.is(readState(ctx).envs["shop/feat-p"]!.engine, "podman");
    ctx.fake.engine = "docker";
    const before = readFileSync(join(ctx.home, "state.json"), "utf8");
    const calls = ctx.composeFake.calls.length;
    for (const op of [() => upEnv(ctx, { ref: "feat-p" }), () => downEnv(ctx, { ref: "feat-p" })]) {
      const err = await op().then(
        () => undefined,
        (e: unknown) => e as CiloError,
      );
      assert.is(err?.code, "E_ENGINE_MISMATCH");
      assert.is(err?.exitCode, 3);
      assert.is(err?.message, "The env shop/feat-p runs on podman, but cilo is talking to docker");
      assert.match(err?.hint ?? "", /CILO_ENGINE=podman/);
    }
    assert.is(readFileSync(join(ctx.home, "state.json"), "utf8"), before);
    assert.is(ctx.composeFake.calls.length, calls, "no compose call was made");
  } finally {
    removeDir(dir);
  }
});

test("--wait timing out on health 'starting' under Podman says why (its healthchecks need systemd)", async () => {
  const waitOn = async (name: string) => {
    const fake = new FakeProvider();
    Object.defineProperty(fake, "name", { value: name });
    fake.addContainer({ name: "p-web-1", labels: { "cilo.env": "x", "cilo.service": "web" }, health: "starting" });
    return waitForServices(fake, { labels: { "cilo.env": "x" }, timeoutMs: 30, intervalMs: 10 }).then(
      () => undefined,
      (e: unknown) => e as CiloError,
    );
  };
  const podman = await waitOn("podman");
  assert.is(podman?.code, "E_WAIT_TIMEOUT");
  assert.match(podman?.message ?? "", /web: starting \(health\)/);
  assert.is(podman?.hint, PODMAN_HEALTHCHECK_HINT);
  assert.is((await waitOn("docker"))?.hint, undefined);
});

test("up takes another subnet when Podman says the env's is already used (the race Docker reports as 'Pool overlaps')", async () => {
  const dir = tempDir();
  try {
    const ctx = await shopEnv(dir, "race");
    const subnet = readState(ctx).envs["shop/race"]!.subnet;
    ctx.composeFake.failNext.set("up", {
      code: 1,
      stdout: "",
      stderr: `Creating network "x" with the default driver\nERROR: subnet ${subnet} is already used on the host or by another config\n`,
    } as never);
    ctx.fake.addNetwork({ name: "theirs", subnets: [subnet] });
    const rec = await upEnv(ctx, { ref: "race" });
    assert.equal(ctx.composeFake.verbs().filter((v) => v === "up").length, 2, "compose up ran again");
    assert.is.not(rec.subnet, subnet);
  } finally {
    removeDir(dir);
  }
});

test("compose v1 gets the API version cilo's /_ping learned (COMPOSE_API_VERSION: no /version round trip); v2, the user's own and bad values are left alone", () => {
  const v1 = { command: ["docker-compose"], version: "1.29.2", flavor: "v1" as const };
  const v2 = { command: ["docker", "compose"], version: "2.20.0", flavor: "v2" as const };
  const podman = { command: ["podman", "compose"], version: "1.0.6", flavor: "podman" as const };
  assert.is(withComposeApiVersion({ PATH: "/bin" }, v1, "1.41")["COMPOSE_API_VERSION"], "1.41");
  assert.is(withComposeApiVersion({}, podman, "1.41")["COMPOSE_API_VERSION"], "1.41");
  assert.equal(withComposeApiVersion({ PATH: "/bin" }, v2, "1.41"), { PATH: "/bin" });
  assert.is(withComposeApiVersion({ COMPOSE_API_VERSION: "1.30" }, v1, "1.41")["COMPOSE_API_VERSION"], "1.30");
  assert.is(withComposeApiVersion({}, v1, undefined)["COMPOSE_API_VERSION"], undefined);
  for (const bad of ["", "1.41; rm -rf /", "auto", "1.41\n", "2.0"]) assert.is(withComposeApiVersion({}, v1, bad)["COMPOSE_API_VERSION"], undefined, bad);
});

test("the engine choice reads a state file's home line alone, and an older form whole", async () => {
  const home = tempDir();
  try {
    await initState({ home, env: {} }, { engine: "podman" });
    const file = join(home, "state.json");
    const text = readFileSync(file, "utf8");
    const lines = `${text.slice(0, text.indexOf("\n"))}\n${Array.from({ length: 3000 }, (_, i) => `"p/x${i}":{}`).join(",\n")}\n}}\n`;
    writeFileSync(file, lines);
    const head = readStateHead(file)!;
    assert.is(head, `${text.slice(0, text.indexOf("\n"))}\n`, "the first line only");
    assert.equal(configuredEngine(home, {}, readStateHead), { engine: "podman", source: "cilo init --engine" });
    const pretty = `${JSON.stringify(JSON.parse(text), null, 2)}\n`;
    writeFileSync(file, pretty);
    assert.is(readStateHead(file), pretty, "an indented file is read whole");
    assert.equal(configuredEngine(home, {}, readStateHead), { engine: "podman", source: "cilo init --engine" });
    assert.is(readStateHead(join(home, "nope.json")), undefined);
  } finally {
    removeDir(home);
  }
});

test.run();
