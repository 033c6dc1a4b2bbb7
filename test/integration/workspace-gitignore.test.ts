// clone.respect_gitignore (issue 14 item 8) through the built CLI: by default the copy takes
// git-ignored files too (node_modules for speed); with the key set it leaves out what git ignores
// — nested .gitignore files and .git/info/exclude included — and clone.include still brings a
// file back. Outside a git repository the top-level .gitignore counts.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";

const rand = Math.random().toString(36).slice(2, 7);
const home = tempDir("cilo-gitign-");
const work = tempDir("cilo-gitign-src-");
const GIT_ENV = { GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.test", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.test" };

function write(root: string, rel: string, content = "x\n"): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), content);
}

function project(name: string, config: object, git: boolean): string {
  const dir = join(work, name);
  write(dir, "compose.yml", "services:\n  web:\n    image: cilo-test/busybox:latest\n");
  write(dir, "cilo.json", JSON.stringify({ project: name, ...config }));
  write(dir, ".gitignore", "node_modules/\n*.log\n");
  write(dir, "node_modules/pkg/index.js");
  write(dir, "app.log");
  write(dir, "keep.log");
  write(dir, "src/main.js");
  write(dir, "src/.gitignore", "generated/\n");
  write(dir, "src/generated/out.js");
  write(dir, "private.txt");
  if (git) {
    execFileSync("git", ["init", "-q", dir]);
    write(dir, ".git/info/exclude", "private.txt\n");
    execFileSync("git", ["-C", dir, "add", "-A"], { env: { ...process.env, ...GIT_ENV } });
  }
  return dir;
}

function created(name: string, dir: string): string {
  const r = cilo(["create", "e1"], { home, cwd: dir });
  assert.is(r.code, 0, r.stderr);
  return join(home, "envs", name, "e1");
}

test.before(async () => {
  assert.is(cilo(["init", "--dns-port", String(await freePort())], { home }).code, 0);
});

test.after(() => {
  for (const p of ["a", "b", "c"]) cilo(["destroy", `gitign-${rand}-${p}/e1`, "--force"], { home });
  cilo(["dns", "stop"], { home });
  removeDir(home);
  removeDir(work);
});

test("by default git-ignored files are copied", () => {
  const name = `gitign-${rand}-a`;
  const ws = created(name, project(name, {}, true));
  for (const f of ["node_modules/pkg/index.js", "app.log", "src/generated/out.js", "private.txt", "src/main.js"]) assert.ok(existsSync(join(ws, f)), f);
});

test("clone.respect_gitignore: what git ignores stays out (nested .gitignore, info/exclude); include brings one back", () => {
  const name = `gitign-${rand}-b`;
  const ws = created(name, project(name, { clone: { respect_gitignore: true, include: ["keep.log"] } }, true));
  for (const f of ["node_modules", "app.log", "src/generated", "private.txt"]) assert.not.ok(existsSync(join(ws, f)), `${f} left out`);
  for (const f of ["src/main.js", "keep.log", ".gitignore", "compose.yml"]) assert.ok(existsSync(join(ws, f)), `${f} copied`);
});

test("outside a git repository the top-level .gitignore counts", () => {
  const name = `gitign-${rand}-c`;
  const ws = created(name, project(name, { clone: { respect_gitignore: true } }, false));
  for (const f of ["node_modules", "app.log", "keep.log"]) assert.not.ok(existsSync(join(ws, f)), `${f} left out`);
  assert.ok(existsSync(join(ws, "src/main.js")));
});

test("a respect_gitignore that is not true or false is exit 2 and creates nothing", () => {
  const name = `gitign-${rand}-d`;
  const dir = project(name, { clone: { respect_gitignore: "yes" } }, false);
  const r = cilo(["create", "e1"], { home, cwd: dir });
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /clone\.respect_gitignore/);
  assert.not.ok(existsSync(join(home, "envs", name)));
});

test.run();
