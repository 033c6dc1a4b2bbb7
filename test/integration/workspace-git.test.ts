// Worktree and git-clone workspaces against a real git repository made in a temp folder (never the network).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CiloError } from "../../src/core/errors.ts";
import { createWorkspace, hasUncommittedChanges, removeWorkspace } from "../../src/core/workspace/index.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";
import { snapshot } from "../fixtures/workspace/snapshot.ts";

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main", ...args], { cwd, encoding: "utf8" }).trim();
}

interface Repo {
  dir: string;
  first: string;
  head: string;
}

/** main: two commits (tag v1 on the first); feature: one more commit; plus an uncommitted edit and an untracked file. */
function makeRepo(root: string): Repo {
  const dir = join(root, "repo");
  mkdirSync(dir);
  git(dir, "init", "-q");
  writeFileSync(join(dir, "compose.yml"), "services: {}\n");
  writeFileSync(join(dir, "README.md"), "v1\n");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "first");
  const first = git(dir, "rev-parse", "HEAD");
  git(dir, "tag", "v1");
  writeFileSync(join(dir, "README.md"), "v2\n");
  git(dir, "commit", "-q", "-am", "second");
  git(dir, "checkout", "-q", "-b", "feature");
  writeFileSync(join(dir, "feature.txt"), "feature\n");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "feature");
  git(dir, "checkout", "-q", "main");
  writeFileSync(join(dir, "README.md"), "v2 with an uncommitted edit\n");
  writeFileSync(join(dir, "untracked.txt"), "new\n");
  return { dir, first, head: git(dir, "rev-parse", "HEAD") };
}

const notGit = (rel: string) => rel === ".git";
const branches = (dir: string) => git(dir, "branch", "--list", "--format=%(refname:short)").split("\n").filter(Boolean).sort();

async function rejects(p: Promise<unknown>, exitCode: number, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, CiloError);
    assert.is((e as CiloError).exitCode, exitCode, (e as Error).message);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a rejection matching ${pattern}`);
}

test("worktree: branch cilo/<env> at HEAD with committed work only; remove takes the worktree and the branch, nothing else", async () => {
  const root = tempDir();
  try {
    const repo = makeRepo(root);
    const before = snapshot(repo.dir, notGit);
    const tagsBefore = git(repo.dir, "tag");
    const dest = join(root, "envs", "shop", "feat-login");
    const info = await createWorkspace({ processEnv: process.env, source: repo.dir, dest, env: "feat-login", mode: "worktree" });
    assert.equal(info, { kind: "worktree", path: dest, source: repo.dir, branch: "cilo/feat-login" });
    assert.is(git(dest, "rev-parse", "--abbrev-ref", "HEAD"), "cilo/feat-login");
    assert.is(git(dest, "rev-parse", "HEAD"), repo.head);
    assert.is(readFileSync(join(dest, "README.md"), "utf8"), "v2\n", "the uncommitted edit is not in the worktree");
    assert.not.ok(existsSync(join(dest, "untracked.txt")));
    assert.equal(branches(repo.dir), ["cilo/feat-login", "feature", "main"]);
    assert.equal(snapshot(repo.dir, notGit), before, "the source's files changed");

    assert.is(await hasUncommittedChanges(process.env, dest), false);
    mkdirSync(join(dest, ".cilo"));
    writeFileSync(join(dest, ".cilo", "compose.yml"), "generated\n");
    assert.is(await hasUncommittedChanges(process.env, dest), false, "cilo's own untracked artefacts are not user work");
    writeFileSync(join(dest, "README.md"), "edited in the env\n");
    assert.is(await hasUncommittedChanges(process.env, dest), true);

    await rejects(removeWorkspace(process.env, info), 2, /uncommitted changes/);
    assert.ok(existsSync(join(dest, "README.md")), "a refused removal removed something");

    await removeWorkspace(process.env, info, { force: true });
    assert.not.ok(existsSync(dest));
    assert.equal(branches(repo.dir), ["feature", "main"]);
    assert.is(
      git(repo.dir, "worktree", "list", "--porcelain")
        .split("\n")
        .filter((l) => l.startsWith("worktree ")).length,
      1,
    );
    assert.is(git(repo.dir, "tag"), tagsBefore);
    assert.is(git(repo.dir, "rev-parse", "main"), repo.head);
    assert.is(git(repo.dir, "rev-parse", "--abbrev-ref", "HEAD"), "main");
    assert.equal(snapshot(repo.dir, notGit), before);
  } finally {
    removeDir(root);
  }
});

test("worktree: an untracked file counts as a change; a worktree removed behind git's back is still cleaned up", async () => {
  const root = tempDir();
  try {
    const repo = makeRepo(root);
    const dest = join(root, "ws");
    const info = await createWorkspace({ processEnv: process.env, source: repo.dir, dest, env: "e2", mode: "worktree" });
    writeFileSync(join(dest, "notes.txt"), "mine\n");
    assert.is(await hasUncommittedChanges(process.env, dest), true);
    removeDir(dest);
    await removeWorkspace(process.env, info);
    assert.equal(branches(repo.dir), ["feature", "main"]);
    // The path itself: the temp folder's random name may contain "ws".
    assert.not.ok(git(repo.dir, "worktree", "list").includes(dest), "the worktree is pruned");
  } finally {
    removeDir(root);
  }
});

test("worktree: an existing cilo/<env> branch, a plain folder, a sub-folder and an empty repo are exit 2, leaving nothing", async () => {
  const root = tempDir();
  try {
    const repo = makeRepo(root);
    git(repo.dir, "branch", "cilo/taken", repo.first);
    const dest = join(root, "ws");
    await rejects(createWorkspace({ processEnv: process.env, source: repo.dir, dest, env: "taken", mode: "worktree" }), 2, /branch cilo\/taken already exists/);
    assert.not.ok(existsSync(dest));
    assert.is(git(repo.dir, "rev-parse", "cilo/taken"), repo.first, "the existing branch was touched");

    const plain = join(root, "plain");
    mkdirSync(plain);
    writeFileSync(join(plain, "compose.yml"), "services: {}\n");
    await rejects(createWorkspace({ processEnv: process.env, source: plain, dest, env: "e", mode: "worktree" }), 2, /is not a git repository/);
    assert.not.ok(existsSync(dest));

    const sub = join(repo.dir, "sub");
    mkdirSync(sub);
    await rejects(createWorkspace({ processEnv: process.env, source: sub, dest, env: "e", mode: "worktree" }), 2, /needs the repository's root/);

    const empty = join(root, "empty");
    mkdirSync(empty);
    git(empty, "init", "-q");
    await rejects(createWorkspace({ processEnv: process.env, source: empty, dest, env: "e", mode: "worktree" }), 2, /has no commit yet/);
    assert.not.ok(existsSync(dest));
    assert.equal(branches(repo.dir), ["cilo/taken", "feature", "main"]);
  } finally {
    removeDir(root);
  }
});

test("git missing is exit 3 and leaves nothing", async () => {
  const root = tempDir();
  const path = process.env["PATH"];
  try {
    const repo = makeRepo(root);
    const dest = join(root, "ws");
    process.env["PATH"] = join(root, "no-bin");
    await rejects(createWorkspace({ processEnv: process.env, source: repo.dir, dest, env: "e", mode: "worktree" }), 3, /git/);
    await rejects(createWorkspace({ processEnv: process.env, git: { url: repo.dir }, dest, env: "e" }), 3, /git/);
    process.env["PATH"] = path;
    assert.not.ok(existsSync(dest));
  } finally {
    process.env["PATH"] = path;
    removeDir(root);
  }
});

test("git: clones the default branch, a branch, a tag and a commit id, over a path and file://", async () => {
  const root = tempDir();
  try {
    const repo = makeRepo(root);
    const bare = join(root, "bare.git");
    execFileSync("git", ["clone", "-q", "--bare", repo.dir, bare]);
    const before = snapshot(repo.dir);

    const plain = await createWorkspace({ processEnv: process.env, git: { url: repo.dir }, dest: join(root, "plain"), env: "e" });
    assert.equal(plain, { kind: "git", path: join(root, "plain"), url: repo.dir });
    assert.is(git(plain.path, "rev-parse", "HEAD"), repo.head);
    assert.is(readFileSync(join(plain.path, "README.md"), "utf8"), "v2\n");

    const feature = await createWorkspace({ processEnv: process.env, git: { url: `file://${bare}`, ref: "feature" }, dest: join(root, "feature"), env: "e" });
    assert.is(feature.ref, "feature");
    assert.is(git(feature.path, "rev-parse", "--abbrev-ref", "HEAD"), "feature");
    assert.ok(existsSync(join(feature.path, "feature.txt")));

    const tag = await createWorkspace({ processEnv: process.env, git: { url: bare, ref: "v1" }, dest: join(root, "tag"), env: "e" });
    assert.is(git(tag.path, "rev-parse", "HEAD"), repo.first);
    assert.is(readFileSync(join(tag.path, "README.md"), "utf8"), "v1\n");

    const commit = await createWorkspace({ processEnv: process.env, git: { url: bare, ref: repo.first.slice(0, 10) }, dest: join(root, "commit"), env: "e" });
    assert.is(git(commit.path, "rev-parse", "HEAD"), repo.first);
    assert.is(git(commit.path, "rev-parse", "--abbrev-ref", "HEAD"), "HEAD", "a commit is checked out detached");

    assert.is(await hasUncommittedChanges(process.env, tag.path), false);
    writeFileSync(join(tag.path, "README.md"), "changed\n");
    assert.is(await hasUncommittedChanges(process.env, tag.path), true);
    await removeWorkspace(process.env, { path: tag.path, kind: "git" }, { force: true });
    assert.not.ok(existsSync(tag.path));
    assert.equal(snapshot(repo.dir), before, "cloning changed the source repository");
  } finally {
    removeDir(root);
  }
});

test("git: an unknown ref is exit 2, a bad URL exit 1; a failed clone leaves dest as it was", async () => {
  const root = tempDir();
  try {
    const repo = makeRepo(root);
    const dest = join(root, "ws");
    await rejects(
      createWorkspace({ processEnv: process.env, git: { url: repo.dir, ref: "no-such-branch" }, dest, env: "e" }),
      2,
      /"no-such-branch" is not a branch, tag or commit/,
    );
    assert.not.ok(existsSync(dest));
    await rejects(
      createWorkspace({ processEnv: process.env, git: { url: repo.dir, ref: "deadbeef" }, dest, env: "e" }),
      2,
      /"deadbeef" is not a branch, tag or commit/,
    );
    assert.not.ok(existsSync(dest));
    await rejects(
      createWorkspace({ processEnv: process.env, git: { url: repo.dir, ref: "--upload-pack=x" }, dest, env: "e" }),
      2,
      /not a branch, tag or commit name/,
    );
    await rejects(createWorkspace({ processEnv: process.env, git: { url: join(root, "missing.git") }, dest, env: "e" }), 1, /Cannot clone/);
    assert.not.ok(existsSync(dest));

    mkdirSync(dest);
    await rejects(createWorkspace({ processEnv: process.env, git: { url: repo.dir, ref: "deadbeef" }, dest, env: "e" }), 2, /deadbeef/);
    assert.equal(readdirSync(dest), [], "an empty dest is put back empty");
    const info = await createWorkspace({ processEnv: process.env, git: { url: repo.dir, ref: "main" }, dest, env: "e" });
    assert.is(git(info.path, "rev-parse", "HEAD"), repo.head);
  } finally {
    removeDir(root);
  }
});

test.run();
