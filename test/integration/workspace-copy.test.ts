// createWorkspace in copy and reflink mode on real folders (SPEC §2 invariant 1: the source is only read).
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CiloError } from "../../src/core/errors.ts";
import { createWorkspace, hasUncommittedChanges, removeWorkspace } from "../../src/core/workspace/index.ts";
import { REFLINK_FALLBACK_NOTICE } from "../../src/core/workspace/create-workspace.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";
import { snapshot } from "../fixtures/workspace/snapshot.ts";

function write(root: string, rel: string, content: string, mode?: number): void {
  const p = join(root, rel);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, content);
  if (mode !== undefined) chmodSync(p, mode);
}

/** A project with ignored and re-included entries, modes, symlinks, git metadata and a FIFO. */
function makeProject(root: string): string {
  const src = join(root, "src");
  write(src, "compose.yml", "services: {}\n");
  write(src, ".ciloignore", "node_modules/\n*.log\n!keep.log\n.env*\ndist/\n/secret.txt\n");
  write(src, "app/main.sh", "#!/bin/sh\necho hi\n", 0o755);
  write(src, "app/readonly.txt", "ro\n", 0o444);
  write(src, "app/nested/deep/file.txt", "deep\n");
  write(src, "debug.log", "noise\n");
  write(src, "logs/keep.log", "kept\n");
  write(src, ".env", "A=1\n");
  write(src, ".env.local", "B=2\n");
  write(src, "secret.txt", "s\n");
  write(src, "docs/secret.txt", "not anchored\n");
  write(src, "node_modules/pkg/index.js", "x\n");
  write(src, "dist/config.json", "{}\n");
  write(src, "dist/bundle.js", "big\n");
  write(src, ".git/HEAD", "ref: refs/heads/main\n");
  write(src, "vendor/lib/.git", "gitdir: ../../.git/modules/lib\n");
  write(src, "vendor/lib/lib.c", "int x;\n");
  mkdirSync(join(src, "private"));
  write(src, "private/p.txt", "p\n");
  chmodSync(join(src, "private"), 0o750);
  symlinkSync("app/nested", join(src, "link-in"));
  symlinkSync("/etc/hostname", join(src, "link-out"));
  symlinkSync("../outside-target", join(src, "link-up"));
  symlinkSync("missing-target", join(src, "link-dangling"));
  execFileSync("mkfifo", [join(src, "pipe")]);
  return src;
}

function expectCode(e: unknown, exitCode: number, pattern?: RegExp): CiloError {
  assert.instance(e, CiloError);
  const err = e as CiloError;
  assert.is(err.exitCode, exitCode, err.message);
  if (pattern) assert.match(err.message, pattern);
  return err;
}

test("copy honours .ciloignore and include, keeps modes and symlinks, skips .git, leaves the source byte-identical", async () => {
  const root = tempDir();
  try {
    const src = makeProject(root);
    const before = snapshot(src);
    const dest = join(root, "envs", "shop", "e1");
    const info = await createWorkspace({ processEnv: process.env, source: src, dest, env: "e1", include: [".env", "dist/config.json"] });
    assert.equal(snapshot(src), before, "the source changed");
    assert.is(info.kind, "copy");
    assert.is(info.path, dest);
    assert.is(info.source, src);
    assert.is(info.notice, undefined);

    const copied = snapshot(dest);
    const expected = Object.fromEntries(
      Object.entries(before).filter(
        ([rel]) =>
          ![
            ".git/",
            ".git/HEAD",
            "vendor/lib/.git",
            "debug.log",
            ".env.local",
            "secret.txt",
            "node_modules/",
            "node_modules/pkg/",
            "node_modules/pkg/index.js",
            "dist/bundle.js",
            "pipe",
          ].includes(rel),
      ),
    );
    assert.equal(copied, expected);
    assert.ok(copied["dist/config.json"], "include reached into the excluded dist/");
    assert.ok(copied[".env"], "include re-included .env");
    assert.ok(copied["docs/secret.txt"]);
    assert.is(copied["pipe"], undefined);
    assert.is(before["pipe"], "special");
    assert.is(copied["app/main.sh"]?.split(":")[0], "755");
    assert.is(copied["app/readonly.txt"]?.split(":")[0], "444");
    assert.is(copied["private/"], "dir:750");
    assert.ok(lstatSync(join(dest, "link-in")).isSymbolicLink());
    assert.is(readlinkSync(join(dest, "link-out")), "/etc/hostname");
    assert.is(readlinkSync(join(dest, "link-dangling")), "missing-target");
    assert.not.ok(existsSync(join(dest, "pipe")));
    assert.is(info.files, Object.keys(expected).filter((k) => !k.endsWith("/")).length);
    assert.is(await hasUncommittedChanges(process.env, dest), false, "a plain copy has no git status");

    await removeWorkspace(process.env, { path: dest, kind: info.kind, source: src });
    assert.not.ok(existsSync(dest));
    assert.equal(snapshot(src), before);
  } finally {
    removeDir(root);
  }
});

test("an excluded folder that no include reaches is not created", async () => {
  const root = tempDir();
  try {
    const src = makeProject(root);
    const dest = join(root, "ws");
    await createWorkspace({ processEnv: process.env, source: src, dest, env: "e", include: ["dist/config.json"] });
    assert.not.ok(existsSync(join(dest, "node_modules")));
    assert.equal(readdirSync(join(dest, "dist")), ["config.json"]);
  } finally {
    removeDir(root);
  }
});

test("reflink falls back to a plain copy with a notice on a file system without it", async () => {
  const root = tempDir();
  try {
    const src = makeProject(root);
    const before = snapshot(src);
    const copyDest = join(root, "copy");
    const reflinkDest = join(root, "reflink");
    await createWorkspace({ processEnv: process.env, source: src, dest: copyDest, env: "c" });
    const info = await createWorkspace({ processEnv: process.env, source: src, dest: reflinkDest, env: "r", mode: "reflink" });
    const fs = execFileSync("stat", ["-f", "-c", "%T", root], { encoding: "utf8" }).trim();
    if (fs === "btrfs" || fs === "xfs") {
      assert.is(info.kind, "reflink");
    } else {
      assert.is(info.kind, "copy");
      assert.is(info.notice, REFLINK_FALLBACK_NOTICE);
    }
    assert.equal(snapshot(reflinkDest), snapshot(copyDest));
    assert.equal(snapshot(src), before);
  } finally {
    removeDir(root);
  }
});

test("an existing empty dest is used; a non-empty one or a file is refused with exit 2 and left alone", async () => {
  const root = tempDir();
  try {
    const src = makeProject(root);
    const empty = join(root, "empty");
    mkdirSync(empty);
    const info = await createWorkspace({ processEnv: process.env, source: src, dest: empty, env: "e" });
    assert.ok(existsSync(join(empty, "compose.yml")));
    assert.ok((info.files ?? 0) > 0);

    const full = join(root, "full");
    write(full, "mine.txt", "precious\n");
    await createWorkspace({ processEnv: process.env, source: src, dest: full, env: "e" }).then(
      () => assert.unreachable("a non-empty dest was accepted"),
      (e) => expectCode(e, 2, /already exists and is not empty/),
    );
    assert.equal(readdirSync(full), ["mine.txt"]);

    const file = join(root, "file");
    writeFileSync(file, "x");
    await createWorkspace({ processEnv: process.env, source: src, dest: file, env: "e" }).then(
      () => assert.unreachable("a file dest was accepted"),
      (e) => expectCode(e, 2, /is not a folder/),
    );
    assert.is(readFileSync(file, "utf8"), "x");
  } finally {
    removeDir(root);
  }
});

test("a missing source folder is exit 2 naming it, and nothing is created", async () => {
  const root = tempDir();
  try {
    const missing = join(root, "nope");
    const dest = join(root, "ws");
    await createWorkspace({ processEnv: process.env, source: missing, dest, env: "e" }).then(
      () => assert.unreachable("a missing source was accepted"),
      (e) => {
        const err = expectCode(e, 2);
        assert.ok(err.message.includes(missing), err.message);
      },
    );
    assert.not.ok(existsSync(dest));
    await createWorkspace({ processEnv: process.env, source: join(root, "src"), dest, env: "e", mode: "rsync" as never }).then(
      () => assert.unreachable("an unknown mode was accepted"),
      (e) => expectCode(e, 2),
    );
  } finally {
    removeDir(root);
  }
});

test("a dest inside the source is not copied into itself", async () => {
  const root = tempDir();
  try {
    const src = makeProject(root);
    const dest = join(src, ".cilo-home", "envs", "p", "e");
    const info = await createWorkspace({ processEnv: process.env, source: src, dest, env: "e" });
    assert.ok(existsSync(join(dest, "compose.yml")));
    assert.ok(existsSync(join(dest, ".cilo-home")), "the folders above dest are copied");
    assert.not.ok(existsSync(join(dest, ".cilo-home", "envs", "p", "e")), "dest was copied into itself");
    assert.ok((info.files ?? 0) < 40);
  } finally {
    removeDir(root);
  }
});

test("an abort during the copy rejects and leaves no dest; an aborted signal touches nothing", async () => {
  const root = tempDir();
  try {
    const src = join(root, "src");
    for (let i = 0; i < 3000; i++) write(src, `d${i % 30}/f${i}.txt`, `${i}\n`);
    const dest = join(root, "ws");
    const ac = new AbortController();
    const pending = createWorkspace({ processEnv: process.env, source: src, dest, env: "e", signal: ac.signal });
    setImmediate(() => ac.abort());
    await pending.then(
      () => assert.unreachable("the copy finished despite the abort"),
      (e: Error) => assert.is(e.name, "AbortError"),
    );
    assert.not.ok(existsSync(dest));

    const aborted = AbortSignal.abort();
    await createWorkspace({ processEnv: process.env, source: src, dest, env: "e", signal: aborted }).then(
      () => assert.unreachable("an aborted signal was ignored"),
      (e: Error) => assert.is(e.name, "AbortError"),
    );
    assert.not.ok(existsSync(dest));
  } finally {
    removeDir(root);
  }
});

test("removeWorkspace refuses a path that holds the project folder", async () => {
  const root = tempDir();
  try {
    const src = makeProject(root);
    await removeWorkspace(process.env, { path: root, kind: "copy", source: src }, { force: true }).then(
      () => assert.unreachable("the project folder's parent was removed"),
      (e) => assert.match((e as Error).message, /holds the project folder/),
    );
    assert.ok(statSync(join(src, "compose.yml")).isFile());
  } finally {
    removeDir(root);
  }
});

test.run();
