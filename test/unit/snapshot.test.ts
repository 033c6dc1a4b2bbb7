// Volume snapshots over the fake provider (issue 18): holding services during the copy, nothing
// half-made on failure, seeded volumes made with the labels compose expects before compose runs,
// and bad input refused with exit 2. The copy itself goes through the fake's archive API (the tar
// path: the test endpoint is not a local engine).
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEnv } from "../../src/core/env/create-env.ts";
import type { CiloError } from "../../src/core/errors.ts";
import { envLabels } from "../../src/core/labels.ts";
import { createSnapshot, restoreSnapshot } from "../../src/core/snapshot/snapshot-env.ts";
import { listSnapshots, readSnapshot } from "../../src/core/snapshot/snapshot-store.ts";
import { homeRef, initState, readState } from "../../src/core/state/store.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";
import { type TestContext, testContext } from "../helpers/context.ts";
import { rejection } from "../helpers/rejection.ts";

const MODEL = { name: "shop", services: { db: { image: "postgres:16", volumes: ["pgdata:/var/lib/postgresql/data"] } }, volumes: { pgdata: {} } };

/** A home with env `a` created, its volume `pgdata` and a running `db` container mounting it. */
async function setup(): Promise<{ ctx: TestContext; dir: string; volume: string }> {
  const dir = tempDir();
  const project = join(dir, "shop");
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, "compose.yml"), "services: {}\n");
  const ctx = testContext({ home: join(dir, "home"), cwd: project });
  ctx.composeFake.model = MODEL;
  await initState(ctx, {});
  const { env } = await createEnv(ctx, { env: "a" });
  const labels = envLabels(homeRef(readState(ctx), ctx.home), "shop", "a");
  const volume = `${env.docker_name}_pgdata`;
  ctx.fake.addVolume({ name: volume, labels: { ...labels, "com.docker.compose.volume": "pgdata" } });
  ctx.fake.addContainer({ name: `${env.docker_name}-db-1`, labels: { ...labels, "com.docker.compose.service": "db" }, volumes: [volume] });
  return { ctx, dir, volume };
}

test("snapshot create pauses the services mounting the volume for the copy and resumes them; the snapshot is listed", async () => {
  const { ctx, dir } = await setup();
  try {
    const seen: string[] = [];
    const archiveOut = ctx.fake.archiveOut.bind(ctx.fake);
    ctx.fake.archiveOut = async (id, path) => {
      seen.push(ctx.fake.containers.find((c) => c.name.endsWith("-db-1"))!.state);
      return archiveOut(id, path);
    };
    const m = await createSnapshot(ctx, { env: "a", name: "s1" });
    assert.equal(seen, ["paused"], "paused during the copy");
    assert.is(ctx.fake.containers.find((c) => c.name.endsWith("-db-1"))!.state, "running", "running again after");
    assert.is(m.consistency, "paused");
    assert.equal(
      m.volumes.map((v) => [v.key, v.format, v.path, v.bytes]),
      [["pgdata", "tar", "tar", 1024]],
    );
    assert.equal(
      listSnapshots(ctx.home).map((s) => s.name),
      ["s1"],
    );
    assert.equal(
      ctx.fake.containers.filter((c) => c.labels["cilo.helper"]).map((c) => c.name),
      [],
      "the helper container is removed",
    );
  } finally {
    removeDir(dir);
  }
});

test("a copy that fails resumes the services and leaves nothing listed or half-made", async () => {
  const { ctx, dir } = await setup();
  try {
    ctx.fake.archiveOut = async () => {
      throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
    };
    const e = await rejection<CiloError>(createSnapshot(ctx, { env: "a", name: "s1" }));
    assert.is(e.code, "E_FS_ENOSPC");
    assert.is(ctx.fake.containers.find((c) => c.name.endsWith("-db-1"))!.state, "running");
    assert.equal(listSnapshots(ctx.home), []);
    assert.equal(readdirSync(join(ctx.home, "snapshots")), [], "no .tmp- folder left");
  } finally {
    removeDir(dir);
  }
});

test("bad input is exit 2: an invalid or taken name, an unknown volume, an unknown snapshot", async () => {
  const { ctx, dir } = await setup();
  try {
    assert.is((await rejection<CiloError>(createSnapshot(ctx, { env: "a", name: "../x" }))).exitCode, 2);
    const unknown = await rejection<CiloError>(createSnapshot(ctx, { env: "a", volumes: ["nope"] }));
    assert.is(unknown.code, "E_SNAPSHOT_EMPTY");
    assert.is(unknown.exitCode, 2);
    assert.match(unknown.hint ?? "", /pgdata/);
    await createSnapshot(ctx, { env: "a", name: "s1", hold: "live" });
    assert.is((await rejection<CiloError>(createSnapshot(ctx, { env: "a", name: "s1" }))).code, "E_SNAPSHOT_EXISTS");
    const missing = await rejection<CiloError>(createEnv(ctx, { env: "b", seed: "s11" }));
    assert.is(missing.code, "E_SNAPSHOT_NOT_FOUND");
    assert.match(missing.message, /did you mean "s1"/);
    assert.is(readState(ctx).envs["shop/b"], undefined, "nothing recorded");
  } finally {
    removeDir(dir);
  }
});

test("a manifest whose volume key is a path (../x) is not a snapshot: its data would lie outside it", () => {
  const home = tempDir("cilo-snap-key-");
  try {
    const dir = join(home, "snapshots", "evil");
    mkdirSync(dir, { recursive: true });
    const manifest = (key: string) => JSON.stringify({ version: 1, name: "evil", volumes: [{ key, volume: "v", format: "dir" }] });
    writeFileSync(join(dir, "manifest.json"), manifest("pgdata"));
    assert.is(readSnapshot(home, "evil").volumes[0]!.key, "pgdata");
    for (const bad of ["../../etc", "a/b", ".hidden", ""]) {
      writeFileSync(join(dir, "manifest.json"), manifest(bad));
      assert.throws(
        () => readSnapshot(home, "evil"),
        (e: CiloError) => e.exitCode === 2,
        bad,
      );
    }
  } finally {
    removeDir(home);
  }
});

test("create --seed makes the env's volume with cilo's and compose's labels before compose runs, and fills it", async () => {
  const { ctx, dir } = await setup();
  try {
    await createSnapshot(ctx, { env: "a", name: "s1" });
    const calls = ctx.composeFake.calls.length;
    const archived: string[] = [];
    ctx.fake.archiveIn = async (id, path, tar) => {
      archived.push(`${ctx.fake.containers.find((c) => c.id === id)!.labels["cilo.helper"]}:${path}`);
      for await (const _ of tar) {
        // drained
      }
    };
    const { env, seeded } = await createEnv(ctx, { env: "b", seed: "s1" });
    const name = `${env.docker_name}_pgdata`;
    const vol = ctx.fake.volumes.find((v) => v.name === name);
    assert.ok(vol, "the volume exists before any up");
    assert.is(vol!.labels["cilo.env"], "b");
    assert.is(vol!.labels["cilo.home"], readState(ctx).home_id);
    assert.is(vol!.labels["com.docker.compose.project"], env.docker_name);
    assert.is(vol!.labels["com.docker.compose.volume"], "pgdata");
    assert.equal(archived, ["volume-copy:/"]);
    assert.equal(
      seeded?.volumes.map((v) => [v.volume, v.path]),
      [[name, "tar"]],
    );
    assert.not.ok(
      ctx.composeFake.calls.slice(calls).some((c) => c.args[0] === "up"),
      "compose up never ran",
    );
  } finally {
    removeDir(dir);
  }
});

test("restore is refused while a service mounting the volume runs (exit 2, nothing touched)", async () => {
  const { ctx, dir } = await setup();
  try {
    await createSnapshot(ctx, { env: "a", name: "s1" });
    const before = ctx.fake.volumes.map((v) => v.name);
    const e = await rejection<CiloError>(restoreSnapshot(ctx, { env: "a", snapshot: "s1" }));
    assert.is(e.code, "E_SNAPSHOT_BUSY");
    assert.is(e.exitCode, 2);
    assert.equal(
      ctx.fake.volumes.map((v) => v.name),
      before,
    );
    assert.equal(
      ctx.fake.removed.filter((r) => r.kind === "volume"),
      [],
    );
    assert.ok(existsSync(join(ctx.home, "snapshots", "s1", "manifest.json")));
  } finally {
    removeDir(dir);
  }
});

test.run();
