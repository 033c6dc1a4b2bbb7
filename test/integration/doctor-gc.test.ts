// cilo gc (issue 6): envs unused for longer than --older-than are destroyed; recent, busy or dirty ones are kept.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { freePort, labelled } from "../helpers/docker.ts";
import { editEnv, stateEnvs } from "../helpers/state-files.ts";

const home = tempDir("cilo-gc-");
const work = tempDir("cilo-gc-src-");
const project = `gc-${Math.random().toString(36).slice(2, 7)}`;
const src = join(work, project);
cpSync(join(repoRoot, "examples/basic"), src, { recursive: true });
writeFileSync(join(src, ".cilo", "config.yml"), `project: ${project}\n`);
const stateFile = join(home, "state.json");
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();

function ok(args: string[]) {
  const r = cilo(args, { home, cwd: src });
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

function envs(): Record<string, any> {
  return stateEnvs(home);
}

/** Backdates envs (nothing else writes the state meanwhile). */
function age(changes: Record<string, { created_at?: string; last_used_at?: string }>): void {
  for (const [env, c] of Object.entries(changes)) editEnv(home, `${project}/${env}`, c);
}

test.before(async () => {
  ok(["init", "--dns-port", String(await freePort())]);
  for (const env of ["old", "old-running", "used-lately", "fresh", "dirty"]) ok(["create", env]);
  ok(["up", "old-running"]);
  execFileSync("git", ["init", "-q", join(home, "envs", project, "dirty")]);
  age({
    old: { created_at: daysAgo(10) },
    "old-running": { created_at: daysAgo(30), last_used_at: daysAgo(9) },
    "used-lately": { created_at: daysAgo(30), last_used_at: daysAgo(1) },
    dirty: { created_at: daysAgo(12) },
  });
});

test.after(() => {
  for (const key of Object.keys(envs())) cilo(["destroy", key, "--force"], { home });
  cilo(["dns", "stop"], { home });
  removeDir(home);
  removeDir(work);
});

test("--dry-run lists what would go (last_used_at, else created_at) and changes nothing", () => {
  const before = readFileSync(stateFile, "utf8");
  const r = JSON.parse(ok(["gc", "--older-than", "7d", "--dry-run", "--json"]).stdout);
  assert.is(r.dry_run, true);
  assert.is(r.older_than_ms, 7 * 86_400_000);
  assert.equal(
    r.destroyed.map((e: any) => e.name),
    ["old", "old-running"],
  );
  assert.equal(
    r.kept.map((e: any) => [e.name, e.reason]),
    [["dirty", "its workspace has uncommitted changes"]],
  );
  assert.is(readFileSync(stateFile, "utf8"), before);
  const text = ok(["gc", "--older-than", "1w", "--dry-run"]).stdout;
  assert.match(text, new RegExp(`Would destroy ${project}/old \\(last used .*, 10 days ago\\)`));
});

test("gc destroys the idle envs through destroy (containers, network, workspace, state entry) and keeps the rest", () => {
  assert.ok(labelled("container", `cilo.project=${project}`, "cilo.env=old-running").length > 0);
  const text = ok(["gc", "--older-than", "7d"]).stdout;
  assert.match(text, new RegExp(`Destroyed ${project}/old-running`));
  assert.match(text, new RegExp(`Destroyed ${project}/old \\(`));
  assert.match(text, new RegExp(`Kept ${project}/dirty: its workspace has uncommitted changes`));
  assert.equal(Object.keys(envs()).sort(), [`${project}/dirty`, `${project}/fresh`, `${project}/used-lately`]);
  assert.equal(labelled("container", `cilo.project=${project}`, "cilo.env=old-running"), []);
  assert.equal(labelled("network", `cilo.project=${project}`, "cilo.env=old-running"), []);
  assert.not.ok(existsSync(join(home, "envs", project, "old")));
  assert.match(ok(["gc", "--older-than", "90d"]).stdout, /No env has been unused for more than 90d/);
});

test("up records last_used_at, so a started env is not idle", () => {
  age({ fresh: { created_at: daysAgo(20) } });
  ok(["up", "fresh"]);
  const used = Date.parse(envs()[`${project}/fresh`].last_used_at);
  assert.ok(Date.now() - used < 120_000, "last_used_at is now");
  const r = JSON.parse(ok(["gc", "--older-than", "7d", "--dry-run", "--json"]).stdout);
  assert.not.ok(r.destroyed.some((e: any) => e.name === "fresh"));
});

test("a bad --older-than is a usage error", () => {
  const r = cilo(["gc", "--older-than", "soon"], { home, cwd: src });
  assert.is(r.code, 2);
  assert.match(r.stderr, /--older-than "soon" is not a duration such as 7d/);
});

test.run();
