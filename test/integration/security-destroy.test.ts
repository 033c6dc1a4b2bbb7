// Security issue, items 3 and 4: destroy never throws away a worktree's or clone's unsaved work
// without --force (and names the lost tip with it), and deletes only the env's own folder under
// $CILO_HOME/envs whatever state.json records.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { freePort, labelled } from "../helpers/docker.ts";
import { editEnv, stateEnvs } from "../helpers/state-files.ts";

const GIT_ENV = {
  GIT_AUTHOR_NAME: "Secdes Test",
  GIT_AUTHOR_EMAIL: "secdes@example.test",
  GIT_COMMITTER_NAME: "Secdes Test",
  GIT_COMMITTER_EMAIL: "secdes@example.test",
};
const rand = Math.random().toString(36).slice(2, 7);
const project = `secdes-${rand}`;
const home = tempDir("cilo-secdes-");
const work = tempDir("cilo-secdes-src-");
const outside = tempDir("cilo-secdes-outside-");
const src = join(work, project);
const stateFile = join(home, "state.json");

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", env: { ...process.env, ...GIT_ENV } }).trim();
}

function run(args: string[]) {
  return cilo(args, { home, cwd: src, env: GIT_ENV });
}

function ok(args: string[]) {
  const r = run(args);
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

function envs(): Record<string, any> {
  return stateEnvs(home);
}

const ws = (env: string) => join(home, "envs", project, env);
const branchExists = (name: string) => git(src, "branch", "--list", name) !== "";

/** A commit of one new file in `dir`; returns its id. */
function commitFile(dir: string, file: string, text: string): string {
  writeFileSync(join(dir, file), text);
  git(dir, "add", "--", file);
  git(dir, "commit", "-q", "-m", `add ${file}`);
  return git(dir, "rev-parse", "HEAD");
}

/** Exit 2 and exactly one line on stderr, matching `re`. */
function refusedOneLine(r: { code: number; stdout: string; stderr: string }, re: RegExp): void {
  assert.is(r.code, 2, `${r.stdout}\n${r.stderr}`);
  const lines = r.stderr.trimEnd().split("\n");
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^cilo: /);
  assert.match(lines[0]!, re);
}

test.before(async () => {
  cpSync(join(repoRoot, "examples/basic"), src, { recursive: true });
  // An env.render file: cilo rewrites it in the worktree, which must not count as the user's change.
  writeFileSync(join(src, ".cilo", "config.yml"), `project: ${project}\nenv:\n  render:\n    - app.env\n`);
  writeFileSync(join(src, "app.env"), "URL=${CILO_BASE_URL}\nWS=${CILO_WORKSPACE}\n");
  execFileSync("git", ["init", "-q", "-b", "main", src]);
  git(src, "add", "-A");
  git(src, "commit", "-q", "-m", "initial");
  ok(["init", "--dns-port", String(await freePort())]);
});

test.after(() => {
  for (const key of Object.keys(envs())) run(["destroy", key, "--force"]);
  run(["dns", "stop"]);
  removeDir(home);
  removeDir(work);
  removeDir(outside);
});

test("worktree: destroy without --force refuses (exit 2, one line) before anything is torn down; after commit+merge it proceeds", () => {
  const env = `secdes-wt-${rand}`;
  ok(["create", env, "--clone", "worktree"]);
  assert.match(readFileSync(join(ws(env), "app.env"), "utf8"), new RegExp(`URL=http://${project}\\.${env}\\.`), "app.env was rendered");
  ok(["up", env]);
  const containers = labelled("container", `cilo.project=${project}`, `cilo.env=${env}`).sort();
  assert.ok(containers.length > 0);
  const sha = commitFile(ws(env), "feature.txt", "agent work\n");
  writeFileSync(join(ws(env), "notes.txt"), "not committed yet\n");
  const before = readFileSync(stateFile, "utf8");

  const r = run(["destroy", env]);
  refusedOneLine(
    r,
    new RegExp(`cilo/${env} has 1 commit not on any other branch and 1 uncommitted file; .*cilo destroy ${env} --force \\(or --keep-workspace\\)`),
  );
  assert.is(readFileSync(stateFile, "utf8"), before, "state untouched");
  assert.ok(existsSync(join(ws(env), "notes.txt")));
  assert.is(git(ws(env), "rev-parse", "HEAD"), sha);
  assert.ok(branchExists(`cilo/${env}`));
  assert.equal(labelled("container", `cilo.project=${project}`, `cilo.env=${env}`).sort(), containers, "containers untouched");
  assert.is(execFileSync("docker", ["inspect", "-f", "{{.State.Running}}", containers[0]!], { encoding: "utf8" }).trim(), "true");

  git(ws(env), "add", "notes.txt");
  git(ws(env), "commit", "-q", "-m", "notes");
  git(src, "merge", "-q", "--no-edit", `cilo/${env}`);
  const done = ok(["destroy", env]);
  assert.match(done.stdout, new RegExp(`Destroyed ${project}/${env}`));
  assert.not.ok(existsSync(ws(env)));
  assert.not.ok(branchExists(`cilo/${env}`));
  assert.not.ok(envs()[`${project}/${env}`]);
  assert.equal(labelled("container", `cilo.project=${project}`, `cilo.env=${env}`), []);
  assert.ok(existsSync(join(src, "notes.txt")), "the merged work is in the source");
});

test("worktree: --force deletes the unmerged branch but prints its tip, which stays recoverable", () => {
  const env = `secdes-wf-${rand}`;
  ok(["create", env, "--clone", "worktree"]);
  const sha = commitFile(ws(env), "lost.txt", "unmerged work\n");
  const r = ok(["destroy", env, "--force"]);
  assert.match(r.stderr, new RegExp(`^cilo/${env} was at ${sha}$`, "m"));
  assert.not.ok(existsSync(ws(env)));
  assert.not.ok(branchExists(`cilo/${env}`));
  assert.is(git(src, "cat-file", "-t", sha), "commit");
  assert.not.ok(envs()[`${project}/${env}`]);
});

test("--git clone: an unpushed commit is refused without --force, goes once pushed; --force saves it and prints the tip", () => {
  const env = `secdes-git-${rand}`;
  ok(["create", env, "--git", src]);
  const sha = commitFile(ws(env), "clone-work.txt", "unpushed\n");
  const before = readFileSync(stateFile, "utf8");
  refusedOneLine(run(["destroy", env]), new RegExp(`The git clone of ${project}/${env} has 1 commit not pushed to any remote branch; .*--force`));
  assert.is(readFileSync(stateFile, "utf8"), before);
  assert.is(git(ws(env), "rev-parse", "HEAD"), sha);
  git(ws(env), "push", "-q", "origin", `HEAD:refs/heads/secdes-pushed-${rand}`);
  ok(["destroy", env]);
  assert.not.ok(existsSync(ws(env)));
  assert.is(git(src, "cat-file", "-t", sha), "commit");

  const env2 = `secdes-gf-${rand}`;
  ok(["create", env2, "--git", src]);
  const sha2 = commitFile(ws(env2), "clone-lost.txt", "unpushed, forced\n");
  writeFileSync(join(ws(env2), "scratch.txt"), "uncommitted\n");
  refusedOneLine(run(["destroy", env2]), /has 1 commit not pushed to any remote branch and 1 uncommitted file/);
  const r = ok(["destroy", env2, "--force"]);
  assert.match(r.stderr, new RegExp(`HEAD of ${project}/${env2} was at ${sha2}`));
  const bundle = /saved in (\S+\.bundle)/.exec(r.stderr)?.[1];
  assert.ok(bundle && existsSync(bundle), r.stderr);
  assert.not.ok(existsSync(ws(env2)));
  git(src, "fetch", "-q", bundle!, `HEAD:refs/heads/secdes-recovered-${rand}`);
  assert.is(git(src, "cat-file", "-t", sha2), "commit");
});

test("a recorded workspace outside the home is reported by doctor and left by destroy --force; the real one is removed", () => {
  const env = `secdes-out-${rand}`;
  ok(["create", env]);
  const marker = join(outside, "victim", "marker.txt");
  mkdirSync(join(outside, "victim"), { recursive: true });
  writeFileSync(marker, "keep me\n");
  // A compose file there naming a volume nobody gave cilo: compose down -v on it would remove it.
  const victim = `secdes-victim-${rand}`;
  execFileSync("docker", ["volume", "create", victim], { encoding: "utf8" });
  mkdirSync(join(outside, "victim", ".cilo"), { recursive: true });
  writeFileSync(
    join(outside, "victim", ".cilo", "compose.yml"),
    `services:\n  x:\n    image: cilo-test/busybox:latest\n    volumes: ["v:/v"]\nvolumes:\n  v:\n    name: ${victim}\n`,
  );
  editEnv(home, `${project}/${env}`, { workspace: join(outside, "victim") });

  const doc = run(["doctor", "--json"]);
  const findings = JSON.parse(doc.stdout).findings as { id: string; subject: string; fix: string | null }[];
  const f = findings.find((x) => x.id === "env-workspace-outside");
  assert.ok(f, doc.stdout);
  assert.is(f!.subject, `${project}/${env}`);
  assert.is(f!.fix, null);
  assert.match(run(["doctor"]).stdout + run(["doctor"]).stderr, /env-workspace-outside/);

  const r = ok(["destroy", env, "--force"]);
  assert.match(r.stderr, new RegExp(`cilo: warning: Left ${join(outside, "victim")}: it is not the workspace folder of ${project}/${env}`));
  assert.is(readFileSync(marker, "utf8"), "keep me\n", "the outside folder and its marker are intact");
  const volumes = execFileSync("docker", ["volume", "ls", "-q"], { encoding: "utf8" }).split("\n");
  execFileSync("docker", ["volume", "rm", "-f", victim]);
  assert.ok(volumes.includes(victim), "compose down -v was not run on the compose file of a folder outside the home");
  assert.not.ok(existsSync(ws(env)), "the env's real workspace under the home is removed");
  assert.not.ok(envs()[`${project}/${env}`], "the state entry is removed");
});

test.run();
