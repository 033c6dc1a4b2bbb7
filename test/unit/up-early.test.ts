// `cilo up` starts compose before up-env.ts loads (core/env/up-early.ts) and upEnv takes it over:
// fed only when it was started for the env and arguments the up ends up with, cancelled otherwise.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ComposeCli } from "../../src/core/compose/compose-cli.ts";
import type { CiloContext } from "../../src/core/context/context.ts";
import { createEnv } from "../../src/core/env/create-env.ts";
import { rememberApiVersion } from "../../src/core/env/engine-api-cache.ts";
import { startUpCompose, upComposeArgs, type EarlyCompose } from "../../src/core/env/up-early.ts";
import { upEnv } from "../../src/core/env/up-env.ts";
import type { RunResult } from "../../src/core/proc/run.ts";
import { initState, readState, withState } from "../../src/core/state/store.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";
import { testContext, type TestContext } from "../helpers/context.ts";

const V1: ComposeCli = { command: ["docker-compose"], version: "1.29.2", flavor: "v1" };
/** The fake engine's ping answers API 1.0: the version the early compose must have been given. */
const API = "1.0";

let dir: string;
test.before.each(() => {
  dir = tempDir("cilo-up-early-");
});
test.after.each(() => removeDir(dir));

/** A home over the fake engine with the env `shop/feat` (created, not up); compose v1 unless `cli`. */
async function shop(env: Record<string, string> = { COMPOSE_API_VERSION: API }, cli: ComposeCli = V1): Promise<{ ctx: CiloContext; t: TestContext }> {
  const project = join(dir, "shop");
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, "compose.yml"), "services:\n  web:\n    image: nginx:alpine\n");
  const t = testContext({ home: join(dir, "home"), cwd: project, env });
  t.composeFake.model = { name: "shop", services: { web: { image: "nginx:alpine" } } };
  await initState(t, {});
  await createEnv(t, { env: "feat" });
  return { ctx: { ...t, compose: async () => cli }, t };
}

/** An early compose that records what happens to it. */
function spyEarly(ctx: CiloContext, args: string[]): EarlyCompose & { fed: string[]; cancelled: boolean } {
  const rec = readState(ctx).envs["shop/feat"]!;
  const spy = {
    rec,
    cli: V1,
    args,
    apiVersion: API,
    fed: [] as string[],
    cancelled: false,
    feed(yaml: string): Promise<RunResult> {
      spy.fed.push(yaml);
      return Promise.resolve({ code: 0, stdout: "", stderr: "", ms: 1 });
    },
    cancel() {
      if (spy.fed.length === 0) spy.cancelled = true;
    },
  };
  return spy;
}

test("startUpCompose: compose v1 with a known API version is started on stdin (-f -) with up's arguments", async () => {
  const { ctx, t } = await shop();
  const early = await startUpCompose(ctx, { ref: "feat", build: true });
  assert.ok(early);
  assert.equal(early.args, ["up", "-d", "--remove-orphans", "--build"]);
  assert.is(early.apiVersion, API);
  assert.is(early.rec.name, "feat");
  const call = t.composeFake.calls.at(-1)!;
  assert.equal(call.args, upComposeArgs({ build: true }));
  assert.equal(call.target.files, ["-"]);
  assert.is(call.target.projectName, early.rec.docker_name);
  early.cancel();
});

test("startUpCompose: none for an unknown env, compose v2, or no API version known (upEnv reports and decides)", async () => {
  const { ctx, t } = await shop();
  const before = t.composeFake.calls.length;
  assert.is(await startUpCompose(ctx, { ref: "nope" }), undefined);
  const v2 = { ...ctx, compose: async (): Promise<ComposeCli> => ({ command: ["docker", "compose"], version: "2.30.0", flavor: "v2" }) };
  assert.is(await startUpCompose(v2, { ref: "feat" }), undefined);
  const { COMPOSE_API_VERSION: _, ...noApi } = ctx.env;
  assert.is(await startUpCompose({ ...ctx, env: noApi }, { ref: "feat" }), undefined);
  assert.is(t.composeFake.calls.length, before, "nothing started");
});

test("upEnv feeds the early compose it is given (the rendered file) and starts no other", async () => {
  const { ctx, t } = await shop();
  const early = spyEarly(ctx, upComposeArgs({}));
  const before = t.composeFake.calls.filter((c) => c.args[0] === "up").length;
  const rec = await upEnv(ctx, { ref: "feat", early });
  assert.is(rec.status, "running");
  assert.is(early.fed.length, 1);
  assert.match(early.fed[0]!, /nginx:alpine/);
  assert.is(early.cancelled, false);
  assert.is(t.composeFake.calls.filter((c) => c.args[0] === "up").length, before, "no second compose up");
});

test("upEnv cancels an early compose started with other arguments (--build) and runs its own", async () => {
  const { ctx, t } = await shop();
  const early = spyEarly(ctx, upComposeArgs({}));
  await upEnv(ctx, { ref: "feat", build: true, early });
  assert.equal(early.fed, []);
  assert.is(early.cancelled, true);
  const ups = t.composeFake.calls.filter((c) => c.args[0] === "up");
  assert.equal(ups.at(-1)!.args, ["up", "-d", "--remove-orphans", "--build"]);
});

test("upEnv cancels an early compose given an API version the engine does not answer (none set by the user)", async () => {
  const { ctx, t } = await shop({});
  // The cache already says what the engine answers: it is the early compose's version that counts.
  rememberApiVersion(ctx, ctx.endpoint().host, API);
  const early = spyEarly(ctx, upComposeArgs({}));
  early.apiVersion = "1.41";
  const before = t.composeFake.calls.filter((c) => c.args[0] === "up").length;
  const rec = await upEnv(ctx, { ref: "feat", early });
  assert.is(rec.status, "running");
  assert.equal(early.fed, []);
  assert.is(early.cancelled, true);
  assert.is(t.composeFake.calls.filter((c) => c.args[0] === "up").length, before + 1, "compose started again");
});

test("an up refused before compose (the env busy) kills the early compose unfed and changes nothing", async () => {
  const { ctx } = await shop();
  await withState(ctx, (s) => {
    s.envs["shop/feat"]!.operation = { kind: "destroy", pid: process.pid, started_at: "2026-01-01T00:00:00.000Z" };
  });
  const before = readState(ctx).envs["shop/feat"];
  const early = spyEarly(ctx, upComposeArgs({}));
  try {
    await upEnv(ctx, { ref: "feat", early });
    assert.unreachable("up ran on a busy env");
  } catch (e) {
    assert.match((e as Error).message, /is busy: destroy is running/);
  }
  assert.equal(early.fed, []);
  assert.is(early.cancelled, true);
  assert.equal(readState(ctx).envs["shop/feat"], before);
});

test.run();
