// renderEnvFiles on a real workspace copy: tokens replaced in the copy, never in the source.
import { chmodSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CiloError } from "../../src/core/errors.ts";
import { createWorkspace, renderEnvFiles, type RenderTokens } from "../../src/core/workspace/index.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";
import { snapshot } from "../fixtures/workspace/snapshot.ts";

const ENV_TEMPLATE = "API_URL=${CILO_BASE_URL}/api\nDB_HOST=db.${CILO_ENV}.${CILO_DNS_SUFFIX}\nHOME_DIR=${HOME}\nWS=${CILO_WORKSPACE}\n";

async function setUp(root: string): Promise<{ src: string; ws: string; tokens: RenderTokens }> {
  const src = join(root, "src");
  mkdirSync(join(src, "config"), { recursive: true });
  writeFileSync(join(src, ".env"), ENV_TEMPLATE);
  writeFileSync(join(src, "config", "app.env"), "PROJECT=${CILO_PROJECT}\n");
  chmodSync(join(src, "config", "app.env"), 0o640);
  writeFileSync(join(src, "config", "static.env"), "NOTHING=here\n");
  writeFileSync(join(src, "config", "left.env"), "ENV=${CILO_ENV}\n");
  const ws = join(root, "ws");
  await createWorkspace({ processEnv: process.env, source: src, dest: ws, env: "feat-x" });
  const tokens = { CILO_ENV: "feat-x", CILO_PROJECT: "shop", CILO_BASE_URL: "http://shop.feat-x.test", CILO_DNS_SUFFIX: "test", CILO_WORKSPACE: ws };
  return { src, ws, tokens };
}

async function refused(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, CiloError);
    assert.is((e as CiloError).exitCode, 2);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a refusal matching ${pattern}`);
}

test("renders both entry forms in the workspace copy, keeps modes, skips tokens: false, leaves the source alone", async () => {
  const root = tempDir();
  try {
    const { src, ws, tokens } = await setUp(root);
    const before = snapshot(src);
    const changed = await renderEnvFiles(
      ws,
      [".env", { file: "config/app.env", tokens: true }, "config/static.env", { file: "config/left.env", tokens: false }],
      tokens,
    );
    assert.equal(changed, [".env", "config/app.env"]);
    assert.is(readFileSync(join(ws, ".env"), "utf8"), `API_URL=http://shop.feat-x.test/api\nDB_HOST=db.feat-x.test\nHOME_DIR=\${HOME}\nWS=${ws}\n`);
    assert.is(readFileSync(join(ws, "config", "app.env"), "utf8"), "PROJECT=shop\n");
    assert.is(statSync(join(ws, "config", "app.env")).mode & 0o777, 0o640);
    assert.is(readFileSync(join(ws, "config", "left.env"), "utf8"), "ENV=${CILO_ENV}\n");
    assert.equal(snapshot(src), before);
    assert.equal(await renderEnvFiles(ws, [".env"], tokens), [], "a second render changes nothing");
  } finally {
    removeDir(root);
  }
});

test("a missing file is exit 2 naming it, and no listed file is written", async () => {
  const root = tempDir();
  try {
    const { ws, tokens } = await setUp(root);
    await refused(renderEnvFiles(ws, [".env", "config/missing.env"], tokens), /"config\/missing\.env" does not exist/);
    assert.is(readFileSync(join(ws, ".env"), "utf8"), ENV_TEMPLATE);
    await refused(renderEnvFiles(ws, ["config"], tokens), /is not a file/);
  } finally {
    removeDir(root);
  }
});

test("paths out of the workspace are refused, also through a symlinked folder; a symlinked file is replaced, not written through", async () => {
  const root = tempDir();
  try {
    const { src, ws, tokens } = await setUp(root);
    const before = snapshot(src);
    await refused(renderEnvFiles(ws, ["../src/.env"], tokens), /outside the workspace/);
    await refused(renderEnvFiles(ws, [join(src, ".env")], tokens), /outside the workspace/);
    symlinkSync(join(src, "config"), join(ws, "linked"));
    await refused(renderEnvFiles(ws, ["linked/app.env"], tokens), /symlink that leads out of the workspace/);
    symlinkSync(join(src, ".env"), join(ws, "shared.env"));
    assert.equal(await renderEnvFiles(ws, ["shared.env"], tokens), ["shared.env"]);
    assert.not.ok(lstatSync(join(ws, "shared.env")).isSymbolicLink());
    assert.match(readFileSync(join(ws, "shared.env"), "utf8"), /API_URL=http:\/\/shop\.feat-x\.test\/api/);
    assert.equal(snapshot(src), before, "rendering wrote into the source");
  } finally {
    removeDir(root);
  }
});

test.run();
