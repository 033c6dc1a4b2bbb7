// TTLs and idle envs (issue 15) through the real CLI: `cilo create --ttl` is enforced by the home's
// TTL reaper whatever happens to its creator, `cilo list` shows it, `cilo gc --idle --json` reports
// what it reclaimed, a bad --ttl changes nothing.
import { existsSync, writeFileSync, cpSync } from "node:fs";
import { join } from "node:path";
import { shippedSchema } from "../helpers/schemas.ts";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";
import { until } from "../helpers/until.ts";
import { stateEnvs } from "../helpers/state-files.ts";

const home = tempDir("cilo-ttl-home-");
const work = tempDir("cilo-ttl-src-");
const project = `ttld-${Math.random().toString(36).slice(2, 7)}`;
const src = join(work, project);
cpSync(join(repoRoot, "examples/basic"), src, { recursive: true });
writeFileSync(join(src, ".cilo", "config.yml"), `project: ${project}\n`);
const validList = shippedSchema("list");

function ok(args: string[]) {
  const r = cilo(args, { home, cwd: src });
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stderr}`);
  return r;
}

const envs = (): Record<string, any> => stateEnvs(home);

test.before(async () => {
  ok(["init", "--dns-port", String(await freePort())]);
});

test.after(() => {
  for (const env of Object.values(envs())) cilo(["destroy", `${env.project}/${env.name}`, "--force"], { home });
  cilo(["dns", "stop"], { home });
  removeDir(home);
  removeDir(work);
});

test("a bad --ttl is a one-line usage error and creates nothing", () => {
  const r = cilo(["create", "bad", "--ttl", "soon"], { home, cwd: src });
  assert.is(r.code, 2);
  assert.match(r.stderr, /^cilo: --ttl "soon" is not a duration such as 2h, 30m or 1d\nhint: /);
  assert.equal(envs(), {});
});

test("--ttl: list shows it, and the TTL reaper destroys the env once it runs out, then retires", async () => {
  ok(["create", "short", "--ttl", "20s"]);
  const rec = envs()[`${project}/short`];
  assert.ok(rec.expires_at, "expires_at is recorded");
  const table = ok(["list"]).stdout;
  assert.match(table, /LEASE\/TTL/);
  assert.match(table, /short .* ttl (1m|expired)/, table);
  const json: any[] = JSON.parse(ok(["list", "--json"]).stdout);
  assert.ok(validList(json), JSON.stringify(validList.errors));
  assert.is(json[0].expires_at, rec.expires_at);
  await until("the expired env to be destroyed", () => !envs()[`${project}/short`], { timeoutMs: 60_000, stepMs: 100 });
  const late = Date.now() - Date.parse(rec.expires_at);
  console.log(`  ttl: the env was gone ${late} ms after its expires_at`);
  assert.not.ok(existsSync(join(home, "envs", project, "short")), "its workspace is gone");
  await until("the TTL reaper to retire", () => !existsSync(join(home, "reapers", "ttl.json")), { timeoutMs: 15_000, stepMs: 100 });
});

test("gc --idle <d> --json: reclaims envs with no cilo operation for that long, says why", () => {
  ok(["create", "idle-one"]);
  const none = JSON.parse(ok(["gc", "--idle", "3h", "--json"]).stdout);
  assert.equal(none.destroyed, []);
  assert.is(none.older_than_ms, 3 * 3_600_000);
  const r = JSON.parse(ok(["gc", "--idle", "1ms", "--json"]).stdout);
  assert.equal(
    r.destroyed.map((d: any) => [d.name, d.reclaimed_because]),
    [["idle-one", "idle"]],
  );
  assert.not.ok(envs()[`${project}/idle-one`]);
  const both = cilo(["gc", "--idle", "1h", "--older-than", "2h"], { home, cwd: src });
  assert.is(both.code, 2);
});

test.run();
