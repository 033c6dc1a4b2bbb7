// createEnv, upEnv, destroyEnv and doctor fixes over the fake provider and compose seam
// (test/helpers/context.ts): no Docker, no compose, no dnsmasq, no process.env.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEnv } from "../../src/core/env/create-env.ts";
import { destroyEnv } from "../../src/core/env/destroy-env.ts";
import { upEnv } from "../../src/core/env/up-env.ts";
import { RunEnvs } from "../../src/workflow/run-envs.ts";
import { envLabels, LABEL_SERVICE } from "../../src/core/labels.ts";
import { applyFixes } from "../../src/core/reconcile/apply-fixes.ts";
import { finding } from "../../src/core/reconcile/findings/index.ts";
import { homeRef, initState, readState } from "../../src/core/state/store.ts";
import type { ComposeCall } from "../helpers/fake-provider.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";
import { type TestContext, testContext } from "../helpers/context.ts";

const MODEL = { name: "shop", services: { web: { image: "nginx:alpine" }, db: { image: "postgres:16" } } };

/** A home with state, a project folder with a compose file, and a context over both. */
async function setup(): Promise<{ ctx: TestContext; dir: string; project: string }> {
  const dir = tempDir();
  const project = join(dir, "shop");
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, "compose.yml"), "services:\n  web:\n    image: nginx:alpine\n  db:\n    image: postgres:16\n");
  writeFileSync(join(project, "index.html"), "hello\n");
  const ctx = testContext({ home: join(dir, "home"), cwd: project });
  ctx.composeFake.model = MODEL;
  await initState(ctx, {});
  return { ctx, dir, project };
}

/** What `compose up` does in the fake: a running container per service, on the env network, with cilo's labels. */
function composeUpMakesContainers(ctx: TestContext): void {
  let ip = 2;
  ctx.composeFake.onUp = (call: ComposeCall) => {
    const rec = Object.values(readState(ctx).envs).find((e) => e.docker_name === call.target.projectName)!;
    const home = homeRef(readState(ctx), ctx.home);
    const base = rec.subnet.replace(/\.0\/\d+$/, "");
    for (const service of Object.keys(MODEL.services)) {
      ctx.fake.addContainer({
        name: `${rec.docker_name}-${service}-1`,
        labels: { ...envLabels(home, rec.project, rec.name), [LABEL_SERVICE]: service },
        ips: { [rec.docker_name]: `${base}.${ip++}` },
      });
    }
    ctx.fake.addNetwork({ name: rec.docker_name, subnets: [rec.subnet], labels: envLabels(home, rec.project, rec.name) });
  };
}

test("createEnv records the env, copies the workspace and validates the project through compose config", async () => {
  const { ctx, dir } = await setup();
  try {
    const { env } = await createEnv(ctx, { env: "feat-x" });
    const state = readState(ctx);
    const rec = state.envs["shop/feat-x"]!;
    assert.is(rec.status, "created");
    assert.is(rec.operation, undefined);
    assert.is(rec.docker_name, `cilo_${state.home_id}_shop_feat-x`);
    assert.is(rec.workspace, join(ctx.home, "envs", "shop", "feat-x"));
    assert.is(rec.created_at, "2026-01-01T00:00:00.000Z", "timestamps come from the context's clock");
    assert.match(rec.subnet, /^10\.(22[4-9]|23\d)\.\d+\.0\/24$/);
    assert.equal(
      rec.services.map((s) => s.name),
      ["db", "web"],
    );
    assert.equal(env, rec);
    assert.is(readFileSync(join(rec.workspace, "index.html"), "utf8"), "hello\n", "the project folder (ctx.cwd) was copied");
    // compose was asked exactly once, to resolve the project in the workspace under the env's Docker name.
    assert.equal(ctx.composeFake.verbs(), ["config"]);
    const call = ctx.composeFake.calls[0]!;
    assert.is(call.target.projectName, rec.docker_name);
    assert.is(call.target.cwd, rec.workspace);
    // The rendered file carries the env's labels with this home's id.
    const rendered = readFileSync(join(rec.workspace, ".cilo", "compose.yml"), "utf8");
    // Quoted or not: the YAML writer quotes ids such as "e5343353" that an old parser could misread.
    assert.match(rendered, new RegExp(`cilo.home: "?${state.home_id}"?\n`));
    assert.equal(ctx.fake.removed, []);
  } finally {
    removeDir(dir);
  }
});

test("createEnv refuses an env that exists (exit 2) and leaves state and folders as they were", async () => {
  const { ctx, dir } = await setup();
  try {
    await createEnv(ctx, { env: "feat-x" });
    const before = readFileSync(join(ctx.home, "state.json"), "utf8");
    const err = await createEnv(ctx, { env: "feat-x" }).then(
      () => undefined,
      (e) => e,
    );
    assert.is(err?.exitCode, 2);
    assert.match(err.message, /already exists/);
    assert.is(readFileSync(join(ctx.home, "state.json"), "utf8"), before);
  } finally {
    removeDir(dir);
  }
});

test("upEnv runs compose up on the rendered file, records the containers' IPs and reports a DNS failure as a warning", async () => {
  const { ctx, dir } = await setup();
  try {
    composeUpMakesContainers(ctx);
    await createEnv(ctx, { env: "feat-x" });
    const rec = await upEnv(ctx, { ref: "feat-x", recreate: true });
    assert.is(rec.status, "running");
    assert.equal(
      rec.services.map((s) => [s.name, s.state, s.ip]),
      [
        ["db", "running", `${rec.subnet.replace(/\.0\/24$/, "")}.3`],
        ["web", "running", `${rec.subnet.replace(/\.0\/24$/, "")}.2`],
      ],
    );
    const up = ctx.composeFake.calls.find((c) => c.args[0] === "up")!;
    assert.equal(up.args, ["up", "-d", "--remove-orphans", "--force-recreate"]);
    assert.equal(up.target, { projectName: rec.docker_name, files: [join(rec.workspace, ".cilo", "compose.yml")], cwd: rec.workspace });
    const state = readState(ctx);
    assert.equal(state.compose, { command: ["fake-compose"], version: "2.30.0" });
    assert.is(state.envs["shop/feat-x"]!.last_used_at, "2026-01-01T00:00:00.000Z");
    // No dnsmasq in this context (CILO_DNSMASQ points nowhere): the env is up, DNS is a warning.
    assert.equal(ctx.warnings.length, 1);
    assert.match(ctx.warnings[0]!, /^DNS was not updated: dnsmasq was not found/);
  } finally {
    removeDir(dir);
  }
});

test("upEnv: compose failing marks the env failed with compose's reason and releases nothing else", async () => {
  const { ctx, dir } = await setup();
  try {
    await createEnv(ctx, { env: "feat-x" });
    ctx.composeFake.failNext.set("up", { code: 1, stdout: "", stderr: "ERROR: pull access denied for nginx\n", ms: 0 });
    const err = await upEnv(ctx, { ref: "feat-x" }).then(
      () => undefined,
      (e) => e,
    );
    // A failed pull is told as such, naming the service and its image (issue 14 item 3e).
    assert.is(err?.code, "E_IMAGE_PULL");
    assert.match(err.message, /the image nginx\S* of service \w+ could not be pulled: pull access denied for nginx/);
    const rec = readState(ctx).envs["shop/feat-x"]!;
    assert.is(rec.status, "failed");
    assert.match(rec.error ?? "", /pull access denied/);
    assert.is(rec.operation, undefined);
  } finally {
    removeDir(dir);
  }
});

test("destroyEnv removes this env's labelled containers, networks and volumes through the engine (no compose call), its workspace and its record", async () => {
  const { ctx, dir } = await setup();
  try {
    composeUpMakesContainers(ctx);
    await createEnv(ctx, { env: "feat-x" });
    await createEnv(ctx, { env: "other" });
    await upEnv(ctx, { ref: "feat-x" });
    const state = readState(ctx);
    const home = homeRef(state, ctx.home);
    const rec = state.envs["shop/feat-x"]!;
    // No compose down: the label sweep finds everything compose made.
    const mine = ctx.fake.containers.map((c) => c.id);
    const vol = ctx.fake.addVolume({ name: `${rec.docker_name}_data`, labels: envLabels(home, "shop", "feat-x") });
    const otherEnv = ctx.fake.addContainer({ name: "other-web", labels: envLabels(home, "shop", "other") });
    const otherHome = ctx.fake.addContainer({ name: "foreign-web", labels: envLabels({ id: "otherhome1", path: "/elsewhere" }, "shop", "feat-x") });
    const composeCalls = ctx.composeFake.calls.length;
    const gone = await destroyEnv(ctx, { ref: "feat-x" });
    assert.is(gone?.name, "feat-x");
    assert.equal(ctx.composeFake.calls.slice(composeCalls), [], "destroy ran no compose command");
    assert.equal(
      ctx.fake.removed.filter((r) => r.kind === "container").map((r) => r.id),
      mine,
    );
    assert.equal(
      ctx.fake.removed.filter((r) => r.kind === "volume").map((r) => r.id),
      [vol.name],
    );
    assert.is(ctx.fake.removed.filter((r) => r.kind === "network").length, 1);
    assert.equal(
      ctx.fake.containers.map((c) => c.id),
      [otherEnv.id, otherHome.id],
      "another env's and another home's containers stay",
    );
    assert.not.ok(existsSync(rec.workspace));
    assert.equal(Object.keys(readState(ctx).envs), ["shop/other"]);
  } finally {
    removeDir(dir);
  }
});

test("doctor fix container-orphaned removes a cilo container of no env, and refuses one of another home", async () => {
  const { ctx, dir } = await setup();
  try {
    const home = homeRef(readState(ctx), ctx.home);
    const orphan = ctx.fake.addContainer({ name: "cilo_x_shop_gone-web-1", labels: envLabels(home, "shop", "gone") });
    const foreign = ctx.fake.addContainer({ name: "theirs", labels: envLabels({ id: "otherhome1", path: "/elsewhere" }, "shop", "gone") });
    const report = await applyFixes(ctx, [
      finding("container-orphaned", { kind: "docker", resource: "container", id: orphan.id, name: orphan.name }, "m", "remove the container"),
      finding("container-orphaned", { kind: "docker", resource: "container", id: foreign.id, name: foreign.name }, "m", "remove the container"),
    ]);
    assert.equal(ctx.fake.removed, [{ kind: "container", id: orphan.id }]);
    assert.equal(
      report.fixed.map((f) => f.message),
      ["removed the container"],
    );
    assert.match(report.failed[0]!.message, /belongs to another CILO_HOME/);
  } finally {
    removeDir(dir);
  }
});

test("doctor fix workspace-orphaned deletes envs/<project>/<env> without an env, and leaves one whose env exists", async () => {
  const { ctx, dir } = await setup();
  try {
    await createEnv(ctx, { env: "feat-x" });
    const stray = join(ctx.home, "envs", "shop", "stray");
    mkdirSync(stray, { recursive: true });
    writeFileSync(join(stray, "file"), "x");
    const report = await applyFixes(ctx, [
      finding("workspace-orphaned", { kind: "env", project: "shop", env: "stray" }, "m", "delete it"),
      finding("workspace-orphaned", { kind: "env", project: "shop", env: "feat-x" }, "m", "delete it"),
    ]);
    assert.not.ok(existsSync(stray));
    assert.ok(existsSync(join(ctx.home, "envs", "shop", "feat-x", "compose.yml")));
    assert.equal(
      report.fixed.map((f) => f.message),
      [`deleted ${stray}`, "left it: shop/feat-x exists now"],
    );
  } finally {
    removeDir(dir);
  }
});

test("doctor fix state-corrupt restores the backup and keeps the corrupt file", async () => {
  const { ctx, dir } = await setup();
  try {
    await createEnv(ctx, { env: "feat-x" }); // writes state.json twice: the backup holds the env as "creating"
    const file = join(ctx.home, "state.json");
    writeFileSync(file, "{ not json");
    const report = await applyFixes(ctx, [finding("state-corrupt", { kind: "component", name: "state.json" }, "m", "restore the backup")]);
    assert.equal(report.failed, []);
    const restored = readState(ctx);
    assert.ok(restored.envs["shop/feat-x"], "the env recorded before the last write is back");
    const kept = report.fixed[0]!.message.match(/kept as (\S+)/)![1]!;
    assert.is(readFileSync(kept, "utf8"), "{ not json");
  } finally {
    removeDir(dir);
  }
});

test("doctor fix operation-interrupted rolls back a create killed half-way through destroyEnv", async () => {
  const { ctx, dir } = await setup();
  try {
    await createEnv(ctx, { env: "feat-x" });
    // As a SIGKILL after the record, before the end: status creating, an operation by a dead pid.
    const { withState } = await import("../../src/core/state/store.ts");
    await withState(ctx, (s) => {
      const r = s.envs["shop/feat-x"]!;
      r.status = "creating";
      r.operation = { kind: "create", pid: 999_999_999, started_at: "2026-01-01T00:00:00.000Z" };
    });
    const report = await applyFixes(ctx, [finding("operation-interrupted", { kind: "env", project: "shop", env: "feat-x" }, "m", "roll it back")]);
    assert.equal(report.failed, []);
    assert.match(report.fixed[0]!.message, /rolled the create back/);
    assert.equal(readState(ctx).envs, {});
    assert.not.ok(existsSync(join(ctx.home, "envs", "shop", "feat-x")));
  } finally {
    removeDir(dir);
  }
});

test("createEnv and a workflow's create step read the env as every command does: feat/login, <project>:<env>", async () => {
  const { ctx, dir, project } = await setup();
  try {
    assert.is((await createEnv(ctx, { env: "feat/login" })).env.name, "feat-login");
    const qualified = (await createEnv(ctx, { env: "blog:Feat/Login" })).env;
    assert.equal([qualified.project, qualified.name], ["blog", "feat-login"]);
    const conflict = await createEnv(ctx, { env: "blog:x", project: "shop" }).then(
      () => undefined,
      (e) => e,
    );
    assert.match(conflict?.message, /names project "blog" but --project says "shop"/);
    assert.is(conflict?.exitCode, 2);
    const run = new RunEnvs(ctx, "wf", readState(ctx).config);
    const made = await run.create({ env: "docs:fix/typo", ephemeral: false }, project, () => {});
    assert.equal([made.env.project, made.env.name], ["docs", "fix-typo"]);
    assert.equal(Object.keys(readState(ctx).envs).sort(), ["blog/feat-login", "docs/fix-typo", "shop/feat-login"]);
  } finally {
    removeDir(dir);
  }
});

test("createEnv with a signal aborted during the copy rolls back: no record, no workspace, the abort reason thrown", async () => {
  const { ctx, dir, project } = await setup();
  try {
    for (let i = 0; i < 200; i++) writeFileSync(join(project, `f${i}.txt`), `${i}\n`);
    const controller = new AbortController();
    const reason = new Error("stop now");
    let copied = 0;
    const err = await createEnv(ctx, {
      env: "feat-abort",
      signal: controller.signal,
      onCopyProgress: () => {
        if (++copied === 5) controller.abort(reason);
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.is(err, reason, "the abort reason is what createEnv throws");
    assert.ok(copied >= 5, `the copy had started (${copied} progress calls)`);
    assert.equal(Object.keys(readState(ctx).envs), [], "no env recorded");
    assert.not.ok(existsSync(join(ctx.home, "envs", "shop", "feat-abort")), "no workspace left");
    assert.equal(ctx.composeFake.verbs(), [], "compose never ran");
    // Already aborted: nothing starts.
    const early = await createEnv(ctx, { env: "feat-abort", signal: AbortSignal.abort(reason) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.is(early, reason);
    assert.equal(Object.keys(readState(ctx).envs), []);
  } finally {
    removeDir(dir);
  }
});

test.run();
