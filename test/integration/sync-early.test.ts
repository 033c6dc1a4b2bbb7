// `cilo sync` begins its push before sync-env.ts loads (core/env/sync-early.ts): the listing of the
// workspace and ssh with the receiver waiting for the tar. syncWorkspace takes each part only when
// it is for the workspace, `.ciloignore`, remote workspace and ssh target it finds itself, and
// cancels the receiver otherwise; a receiver cancelled unfed has changed nothing on the host.
// ssh here is a stand-in on PATH that runs the remote command with /bin/sh on this machine (rsync
// and the receiver script run for real); the real ssh is test/integration/host-envs.test.ts's.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEnv } from "../../src/core/env/create-env.ts";
import { startEarlyPush } from "../../src/core/env/sync-early.ts";
import { syncEnv } from "../../src/core/env/sync-env.ts";
import { forgetPushManifest } from "../../src/core/host/push-manifest.ts";
import { initState, readState, withState } from "../../src/core/state/store.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";
import { testContext, type TestContext } from "../helpers/context.ts";

let dir: string;
let log: string;
let t: TestContext;
let local: string;
let remote: string;

/** ssh's stand-in: logs each start, skips the options and the host, runs the command here. */
function standIn(bin: string): void {
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, "ssh"),
    `#!/bin/sh
echo start >> '${log}'
while [ $# -gt 0 ]; do
  case "$1" in
    -o|-l|-p|-i|-F) shift 2 ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;
  esac
done
shift
exec /bin/sh -c "$*"
`,
  );
  chmodSync(join(bin, "ssh"), 0o755);
}

/** `p`, or "hung" after 10 s (an unfed receiver never cancelled would wait on its stdin for ever). */
const within = <T>(p: Promise<T>): Promise<T | "hung"> =>
  Promise.race([p, new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 10_000).unref())]);
const starts = () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean).length : 0);
const stages = () => (existsSync(join(remote, ".cilo")) ? readdirSync(join(remote, ".cilo")).filter((n) => n.startsWith("sync-")) : []);

test.before.each(async () => {
  dir = tempDir("cilo-unit-early-");
  log = join(dir, "ssh.log");
  standIn(join(dir, "bin"));
  const project = join(dir, "shop");
  mkdirSync(join(project, "web"), { recursive: true });
  writeFileSync(join(project, "compose.yml"), "services:\n  web:\n    image: nginx:alpine\n");
  for (let i = 0; i < 50; i++) writeFileSync(join(project, "web", `f${i}.txt`), `file ${i}\n`);
  t = testContext({ home: join(dir, "home"), cwd: project, env: { PATH: `${join(dir, "bin")}:${process.env["PATH"]}` } });
  t.composeFake.model = { name: "shop", services: { web: { image: "nginx:alpine" } } };
  await initState(t, {});
  await createEnv(t, { env: "feat" });
  // The env as if created on the ssh:// host r1 (its remote workspace under a root of this test's).
  remote = join(dir, "remote", "shop", "feat");
  mkdirSync(remote, { recursive: true });
  await withState(t, (state) => {
    state.hosts = { r1: { address: "ssh://u@h", added_at: new Date(0).toISOString() } };
    const rec = state.envs["shop/feat"]!;
    rec.host = "r1";
    rec.remote_workspace = remote;
  });
  local = readState(t).envs["shop/feat"]!.workspace;
  // Old mtimes: a file written just before a push is racy (sync-walk.ts) and would be sent again.
  for (const f of ["compose.yml", ...Array.from({ length: 50 }, (_, i) => `web/f${i}.txt`)]) utimesSync(join(local, f), 1_700_000_000, 1_700_000_000);
  await syncEnv(t, { ref: "shop:feat" }); // the first push: rsync of the whole trees, the manifest recorded
  assert.is(readFileSync(join(remote, "web/f1.txt"), "utf8"), "file 1\n");
});
test.after.each(() => removeDir(dir));

test("the CLI's early push is taken whole: one ssh session, the listing begun before", async () => {
  writeFileSync(join(local, "web/f3.txt"), "edited\n");
  const before = starts();
  const early = await startEarlyPush(t, { ref: "shop:feat" });
  assert.ok(early?.listing.find, "find began");
  assert.ok(early?.receiver, "a manifest for this target: the receiver began");
  const r = await syncEnv(t, { ref: "shop:feat", early: early! });
  early!.receiver!.cancel(); // as the CLI does: a no-op once taken
  assert.equal([r.via, r.sent], ["tar", 1]);
  assert.is(r.listedBy, "find");
  assert.is(starts() - before, 1, "no second ssh");
  assert.is(readFileSync(join(remote, "web/f3.txt"), "utf8"), "edited\n");
  assert.equal(stages(), []);
});

test("an early push for what the push does not find (.ciloignore changed since): not taken, its receiver cancelled, nothing of it left there", async () => {
  writeFileSync(join(local, "web/f4.txt"), "edited\n");
  const early = await startEarlyPush(t, { ref: "shop:feat" });
  writeFileSync(join(local, ".ciloignore"), "*.log\n");
  const r = await syncEnv(t, { ref: "shop:feat", early: early! });
  assert.is(r.listedBy, "walk", "rules: the walk lists");
  assert.is(r.sent, 2, "the edit and .ciloignore");
  const killed = await within(early!.receiver!.done);
  assert.ok(killed !== "hung" && killed.code !== 0, "the early receiver was killed unfed");
  assert.is(readFileSync(join(remote, "web/f4.txt"), "utf8"), "edited\n");
  assert.equal(stages(), []);
});

test("a receiver cancelled unfed changes nothing there; none begins without a manifest for the target, for --pull, --full or --watch, or for a local env", async () => {
  const listing = () => readdirSync(remote, { recursive: true }).map(String).sort();
  const was = listing();
  const early = await startEarlyPush(t, { ref: "shop:feat" });
  early!.receiver!.cancel();
  assert.not.equal(await within(early!.receiver!.done), "hung");
  assert.equal(listing(), was);
  for (const o of [{ pull: true }, { full: true }, { watch: true }]) assert.is(await startEarlyPush(t, { ref: "shop:feat", ...o }), undefined);
  assert.is(await startEarlyPush(t, { ref: "shop:nope" }), undefined, "no such env: the push says so");
  forgetPushManifest(local);
  const first = await startEarlyPush(t, { ref: "shop:feat" });
  assert.ok(first?.listing);
  assert.is(first?.receiver, undefined, "no manifest: the push compares the whole trees");
  await withState(t, (state) => {
    delete state.envs["shop/feat"]!.host;
    delete state.envs["shop/feat"]!.remote_workspace;
  });
  assert.is(await startEarlyPush(t, { ref: "shop:feat" }), undefined, "a local env");
});

test.run();
