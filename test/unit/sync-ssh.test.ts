// The incremental push over ssh (docs/remote.md "Remote workspace"): the walk that compares with
// the last push's manifest, that manifest kept locally, and the tar + script that put a push in
// place on the host. The host side runs for real here: the receiver command under /bin/sh with
// the tar on stdin (GNU tar, perl, and without perl the mv fallback), in a temporary "remote"
// folder. The real thing over ssh is test/integration/host-envs.test.ts.
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { applyScript, receiverCommand, stageName, WORKSPACE_GONE, workspaceGone } from "../../src/core/host/sync-script.ts";
import { forgetPushManifest, hasPushManifestFor, pushManifestPath, readPushManifest, stagePushManifest } from "../../src/core/host/push-manifest.ts";
import { entriesOf, type Listed, pushTar, RACY_COARSE_MS, RACY_MS, walkChanges } from "../../src/core/host/sync-walk.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";

const T = "ssh://h /srv/r/p/e";

/** A listing's entries by path (its signatures). */
function sigs(l: Listed): Map<string, string> {
  const m = entriesOf(l);
  assert.ok(m, "the listing is in its form");
  return m!;
}
/** A walk a minute after the files were written: no mtime is racy (RACY_MS), an unchanged file matches. */
const later = () => Date.now() + 60_000;

function tree(dir: string, files: Record<string, string>): void {
  for (const [p, body] of Object.entries(files)) {
    mkdirSync(join(dir, p, ".."), { recursive: true });
    writeFileSync(join(dir, p), body);
  }
}

test("walk: .ciloignore as gitignore, .cilo/ and .git left out, everything sent without a last push", () => {
  const dir = tempDir("cilo-unit-walk-");
  try {
    tree(dir, {
      "web/index.html": "i",
      "web/debug.log": "d",
      "web/keep.log": "k",
      "web/sub/a": "a",
      ".cilo/compose.yml": "c",
      ".git/HEAD": "h",
      "node_modules/x/i.js": "x",
    });
    symlinkSync("index.html", join(dir, "web/link"));
    const w = walkChanges(dir, "*.log\n!keep.log\nnode_modules/\n", undefined, later());
    assert.equal([...sigs(w.now).keys()].sort(), ["web", "web/index.html", "web/keep.log", "web/link", "web/sub", "web/sub/a"]);
    assert.equal(w.send.map((e) => e.path).sort(), ["web/index.html", "web/keep.log", "web/link", "web/sub/a"]);
    assert.equal(
      w.send.find((e) => e.path === "web/link"),
      { path: "web/link", t: "l", target: "index.html" },
    );
    assert.is(sigs(w.now).get("web/link"), "lindex.html");
    assert.match(sigs(w.now).get("web/index.html")!, /^f1:\d+:420$/);
    assert.is(w.bytes, 3);
    assert.equal(w.mkdirs.sort(), ["web", "web/sub"]);
    assert.equal(w.remove, []);
    assert.not.ok(w.same);
  } finally {
    removeDir(dir);
  }
});

test("walk against the last push: only changes are sent; deletions, type changes, new folders; an ignored-now path stays there; a bad path is never removed", () => {
  const dir = tempDir("cilo-unit-walk2-");
  try {
    tree(dir, { "a/one": "1", "a/two": "2", "b/three": "3", x: "file", "y/inner": "i", "ign/keep": "k", top: "t" });
    const last = walkChanges(dir, "", undefined, later()).now;
    const again = walkChanges(dir, "", last, later());
    assert.ok(again.same, "nothing changed");
    assert.equal([again.send, again.mkdirs, again.remove], [[], [], []]);
    // Changes: content (and mtime), mode, a deletion, a new folder, file → folder, folder → file.
    writeFileSync(join(dir, "a/one"), "1 changed");
    utimesSync(join(dir, "a/one"), new Date(5_000_000), new Date(5_000_000));
    spawnSync("chmod", ["755", join(dir, "a/two")]);
    rmSync(join(dir, "b/three"));
    mkdirSync(join(dir, "n/m"), { recursive: true });
    rmSync(join(dir, "x"));
    mkdirSync(join(dir, "x"));
    rmSync(join(dir, "y"), { recursive: true });
    writeFileSync(join(dir, "y"), "now a file");
    // Paths the manifest has that no walk makes: an edited manifest. They are not removed.
    const tampered: Listed = { by: last.by, text: `${last.text}f\0../outside\x001\0m1\x00644\0\0f\0.git/config\x001\0m1\x00644\0\0` };
    const w = walkChanges(dir, "ign/\n", tampered, later());
    assert.equal(w.send.map((e) => e.path).sort(), ["a/one", "a/two", "y"]);
    assert.equal(w.mkdirs.sort(), ["n", "n/m", "x"]);
    assert.equal(w.remove.sort(), ["b/three", "x", "y", "y/inner"], "ign/keep is ignored now, not gone: the host keeps it");
    assert.is(sigs(w.now).has("ign/keep"), false);
    assert.not.ok(w.same);
  } finally {
    removeDir(dir);
  }
});

test("racy mtimes: a same-size edit within the mtime's tick after a push is still sent; only mtimes near the walk are racy", () => {
  const base = tempDir("cilo-unit-racy-");
  const local = join(base, "local");
  const remote = join(base, "remote");
  try {
    tree(local, { a: "AAAA", old: "o" });
    const stamp = new Date(Math.floor(Date.now() / 1000) * 1000 - 5000 + 357); // sub-second
    utimesSync(join(local, "a"), stamp, stamp);
    utimesSync(join(local, "old"), new Date(1_000_000), new Date(1_000_000));
    // The push's walk began 20 ms after that write (the file was saved, then cilo sync ran).
    const first = walkChanges(local, "", undefined, stamp.getTime() + 20);
    assert.is(receive(remote, local, first).status, 0);
    assert.is(sigs(first.now).get("old"), "f1:1000000:420", "an old mtime is recorded as it is");
    // Rewritten after the push read it, same size, and the clock had not moved: the same mtime.
    writeFileSync(join(local, "a"), "BBBB");
    utimesSync(join(local, "a"), stamp, stamp);
    const w = walkChanges(local, "", first.now, later());
    assert.equal(
      w.send.map((e) => e.path),
      ["a"],
      "the size and mtime are the ones recorded, but the entry was racy",
    );
    assert.is(receive(remote, local, w).status, 0);
    assert.is(readFileSync(join(remote, "a"), "utf8"), "BBBB");
    // Which mtimes are racy, for a walk that began at t: sub-second ones within RACY_MS, whole
    // seconds (a file system that keeps only those) within RACY_COARSE_MS.
    const t = 1_800_000_000_500;
    const racy = (mtimeMs: number) => {
      utimesSync(join(local, "a"), new Date(mtimeMs), new Date(mtimeMs));
      return sigs(walkChanges(local, "", undefined, t).now)
        .get("a")!
        .endsWith(":racy");
    };
    assert.ok(RACY_MS <= 1000 && RACY_COARSE_MS >= 2000);
    assert.ok(racy(t - RACY_MS + 1));
    assert.ok(racy(t + 5000), "an mtime after the walk began");
    assert.not.ok(racy(t - RACY_MS - 7));
    const second = Math.floor((t - RACY_COARSE_MS + 1000) / 1000) * 1000;
    assert.ok(racy(second), "whole seconds: the coarse window");
    assert.not.ok(racy(second - 2000 - RACY_COARSE_MS));
    // A racy entry never matches: a push right after an edit sends the file again next time, then not.
    writeFileSync(join(local, "a"), "CCCC");
    const now = Date.now();
    const edited = walkChanges(local, "", w.now, now);
    assert.equal(
      edited.send.map((e) => e.path),
      ["a"],
    );
    assert.equal(
      walkChanges(local, "", edited.now, now + 10).send.map((e) => e.path),
      ["a"],
      "still racy: sent again",
    );
    const settled = walkChanges(local, "", edited.now, now + 60_000);
    assert.equal(
      settled.send.map((e) => e.path),
      ["a"],
      "sent once more, recorded clean",
    );
    assert.ok(walkChanges(local, "", settled.now, now + 60_000).same);
  } finally {
    removeDir(base);
  }
});

test("push manifest: kept only once committed, only for its target; torn or edited lengths mean a full push; forget removes it", () => {
  const dir = tempDir("cilo-unit-pushm-");
  try {
    const m: Listed = { by: "find", text: "f\0a\x001\x001.5\x00644\0\0d\0d\0\0l\0it's\nodd\0../x\0\0" };
    const staged = stagePushManifest(dir, T, m);
    assert.is(readPushManifest(dir, T), undefined, "not before the push succeeded");
    assert.not.ok(hasPushManifestFor(dir, T));
    staged.commit();
    assert.equal(readPushManifest(dir, T), m);
    assert.ok(hasPushManifestFor(dir, T));
    assert.is(readPushManifest(dir, "ssh://other /srv/r/p/e"), undefined, "another host: a full push");
    assert.not.ok(hasPushManifestFor(dir, "ssh://other /srv/r/p/e"));
    assert.not.ok(hasPushManifestFor(dir, "ssh://h /srv/r/p"), "a target that is the start of another");
    stagePushManifest(dir, T, { by: "walk", text: "d\0b\0\0" }).drop();
    assert.equal(readPushManifest(dir, T), m, "a dropped one changes nothing");
    const text = readFileSync(pushManifestPath(dir), "utf8");
    writeFileSync(pushManifestPath(dir), text.slice(0, text.length - 5));
    assert.is(readPushManifest(dir, T), undefined, "torn");
    writeFileSync(pushManifestPath(dir), text.replace(`\n${m.text.length}\n`, `\n${m.text.length + 1}\n`));
    assert.is(readPushManifest(dir, T), undefined, "a length that does not match");
    writeFileSync(pushManifestPath(dir), text.replace("\nfind\n", "\nmine\n"));
    assert.is(readPushManifest(dir, T), undefined, "an unknown lister");
    writeFileSync(pushManifestPath(dir), text.replace("cilo-push-manifest 3", "cilo-push-manifest 2"));
    assert.is(readPushManifest(dir, T), undefined, "an earlier version's: a full push");
    writeFileSync(pushManifestPath(dir), text);
    forgetPushManifest(dir);
    assert.is(readPushManifest(dir, T), undefined);
    assert.not.ok(hasPushManifestFor(dir, T));
  } finally {
    removeDir(dir);
  }
});

test("apply script: quoted paths, removals first, folders, one put of every rename, the stage dropped; stage names checked", () => {
  const script = applyScript("/srv/r/p/e", "sync-1-a", { send: ["a", "d/it's"], mkdirs: ["n"], remove: ["gone"] });
  const lines = script.trim().split("\n");
  assert.is(lines[0], "set -e");
  assert.is(lines[1], "cd -- '/srv/r/p/e'");
  const body = lines.slice(lines.indexOf("}", lines.indexOf("put() {")) + 1);
  assert.equal(body, [
    "gone 'gone'",
    "dir 'd'",
    "dir 'n'",
    "[ ! -d 'a' ] || [ -L 'a' ] || rm -rf -- 'a'",
    `[ ! -d 'd/it'\\''s' ] || [ -L 'd/it'\\''s' ] || rm -rf -- 'd/it'\\''s'`,
    `put '.cilo/sync-1-a/f/a' 'a' '.cilo/sync-1-a/f/d/it'\\''s' 'd/it'\\''s'`,
    "n=0",
    `for e in .cilo/* .cilo/.[!.]* .cilo/..?*; do if [ -e "$e" ] || [ -L "$e" ]; then n=$((n + 1)); fi; done`,
    "if [ \"$n\" = 1 ] && [ -d '.cilo/sync-1-a' ]; then rm -rf -- .cilo; else",
    "  rm -rf -- '.cilo/sync-1-a'",
    `  for s in .cilo/sync-*; do if [ -d "$s" ]; then find .cilo -maxdepth 1 -name 'sync-*' -mmin +60 -exec rm -rf -- {} + 2>/dev/null || true; break; fi; done`,
    "  rmdir .cilo 2>/dev/null || true",
    "fi",
  ]);
  assert.match(stageName(Date.now(), Math.random()), /^sync-[a-z0-9]+-[a-z0-9]+$/);
  assert.throws(() => applyScript("/srv/r/p/e", "../x", { send: [], mkdirs: [], remove: [] }), /not a stage name/);
  assert.throws(() => receiverCommand("/srv/r/p/e", "sync-a b"), /not a stage name/);
});

/**
 * Runs the receiver command as ssh would on the host, with the push's tar on stdin; `path` for the
 * tools it finds. The remote folder is made first, as the full push before any compared one makes it.
 */
function receive(remote: string, local: string, w: ReturnType<typeof walkChanges>, path?: string): { status: number | null; stderr: string } {
  mkdirSync(remote, { recursive: true });
  const stage = stageName(Date.now(), Math.random());
  const tar = pushTar(local, stage, w.send, applyScript(remote, stage, { send: w.send.map((e) => e.path), mkdirs: w.mkdirs, remove: w.remove }));
  const r = spawnSync("/bin/sh", ["-c", receiverCommand(remote, stage)], { input: tar, encoding: "utf8", env: { PATH: path ?? process.env["PATH"] ?? "" } });
  return { status: r.status, stderr: r.stderr };
}

for (const perl of [true, false]) {
  test(`push in place (${perl ? "perl renames" : "no perl: mv"}): content, modes and mtimes, symlinks, deletions and type changes; a symlink there never leads out; nothing of cilo's left`, () => {
    const base = tempDir("cilo-unit-push-");
    let path: string | undefined;
    if (!perl) {
      // A PATH with the tools the scripts use, perl left out.
      path = join(base, "bin");
      mkdirSync(path);
      for (const tool of ["sh", "tar", "mkdir", "rm", "rmdir", "mv", "find"]) {
        const at = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
        symlinkSync(at, join(path, tool));
      }
    }
    const local = join(base, "local");
    const remote = join(base, "remote");
    const outside = join(base, "outside");
    try {
      tree(local, { "a/one": "1", "a/two": "2", "b/three": "3", x: "file", "y/inner": "i", "deep/victim": "pushed first" });
      spawnSync("chmod", ["750", join(local, "a/two")]);
      symlinkSync("../a/one", join(local, "b/link"));
      tree(outside, { victim: "must stay", "sub/victim": "must stay" });
      let w = walkChanges(local, "", undefined, later());
      let r = receive(remote, local, w, path);
      assert.is(r.status, 0, r.stderr);
      let last = w.now;
      assert.is(readFileSync(join(remote, "a/one"), "utf8"), "1");
      assert.is(statSync(join(remote, "a/two")).mode & 0o777, 0o750);
      assert.is(Math.floor(statSync(join(remote, "a/one")).mtimeMs / 1000), Math.floor(statSync(join(local, "a/one")).mtimeMs / 1000));
      assert.is(readlinkSync(join(remote, "b/link")), "../a/one");
      assert.not.ok(existsSync(join(remote, ".cilo")), "the stage and .cilo are gone");
      // A container on the host replaced folders by symlinks out of the workspace.
      rmSync(join(remote, "deep"), { recursive: true });
      symlinkSync(outside, join(remote, "deep"));
      rmSync(join(remote, "b"), { recursive: true });
      symlinkSync(join(outside, "sub"), join(remote, "b"));
      writeFileSync(join(remote, "made-there"), "the host's own file");
      symlinkSync(outside, join(remote, ".cilo"));
      // Edits here: a change, a deletion through the link, a file → folder, a folder → file, a new file under the link.
      writeFileSync(join(local, "a/one"), "1 changed");
      utimesSync(join(local, "a/one"), new Date(7_000_000), new Date(7_000_000));
      rmSync(join(local, "deep/victim"));
      rmSync(join(local, "x"));
      mkdirSync(join(local, "x"));
      writeFileSync(join(local, "x/in"), "in");
      rmSync(join(local, "y"), { recursive: true });
      writeFileSync(join(local, "y"), "now a file");
      writeFileSync(join(local, "b/victim"), "pushed");
      w = walkChanges(local, "", last, later());
      r = receive(remote, local, w, path);
      assert.is(r.status, 0, r.stderr);
      last = w.now;
      assert.is(readFileSync(join(remote, "a/one"), "utf8"), "1 changed");
      assert.is(statSync(join(remote, "a/one")).mtimeMs, 7_000_000);
      assert.is(readFileSync(join(remote, "x/in"), "utf8"), "in");
      assert.is(readFileSync(join(remote, "y"), "utf8"), "now a file");
      assert.is(readFileSync(join(outside, "victim"), "utf8"), "must stay", "a removal through a symlink is not made");
      assert.is(readFileSync(join(outside, "sub/victim"), "utf8"), "must stay", "a file is not written through a symlink");
      assert.ok(lstatSync(join(remote, "b")).isDirectory(), "the symlink in the way became a folder again");
      assert.is(readFileSync(join(remote, "b/victim"), "utf8"), "pushed");
      assert.is(readFileSync(join(remote, "made-there"), "utf8"), "the host's own file", "what cilo never sent stays");
      assert.equal(readdirSync(outside).sort(), ["sub", "victim"], "nothing was staged through a .cilo symlink");
      assert.not.ok(existsSync(join(remote, ".cilo")));
      // Nothing changed: an empty push still runs and leaves the tree as it is.
      w = walkChanges(local, "", last, later());
      assert.ok(w.same);
      assert.is(receive(remote, local, w, path).status, 0);
      assert.is(readFileSync(join(remote, "a/one"), "utf8"), "1 changed");
    } finally {
      removeDir(base);
    }
  });
}

test("no remote workspace where the manifest put one (host wiped, folder removed): the receiver makes nothing, reads nothing, and says so", () => {
  const base = tempDir("cilo-unit-gone-");
  const local = join(base, "local");
  const remote = join(base, "srv/p/e");
  try {
    tree(local, { a: "a" });
    const w = walkChanges(local, "", undefined);
    const stage = stageName(Date.now(), Math.random());
    const tar = pushTar(local, stage, w.send, applyScript(remote, stage, { send: w.send.map((e) => e.path), mkdirs: w.mkdirs, remove: w.remove }));
    const r = spawnSync("/bin/sh", ["-c", receiverCommand(remote, stage)], { input: tar, encoding: "utf8", cwd: base });
    assert.is(r.status, WORKSPACE_GONE);
    assert.ok(workspaceGone({ code: r.status!, stderr: r.stderr }), r.stderr);
    assert.not.ok(existsSync(join(base, "srv")), "nothing made there");
    assert.not.ok(existsSync(join(base, ".cilo")), "nothing unpacked where the receiver stood");
    // Any other failure is not taken for it.
    assert.not.ok(workspaceGone({ code: WORKSPACE_GONE, stderr: "tar: something else" }));
    assert.not.ok(workspaceGone({ code: 1, stderr: r.stderr }));
  } finally {
    removeDir(base);
  }
});

test("an interrupted push (the tar cut short) changes nothing there and leaves a stage the next push clears after an hour", () => {
  const base = tempDir("cilo-unit-cut-");
  const local = join(base, "local");
  const remote = join(base, "remote");
  try {
    tree(local, { a: "old a", b: "old b" });
    const first = walkChanges(local, "", undefined);
    assert.is(receive(remote, local, first).status, 0);
    writeFileSync(join(local, "a"), "new a ".repeat(200));
    writeFileSync(join(local, "b"), "new b ".repeat(200));
    const w = walkChanges(local, "", first.now);
    const stage = stageName(Date.now(), Math.random());
    const tar = pushTar(local, stage, w.send, applyScript(remote, stage, { send: w.send.map((e) => e.path), mkdirs: w.mkdirs, remove: w.remove }));
    const cut = spawnSync("/bin/sh", ["-c", receiverCommand(remote, stage)], { input: tar.subarray(0, 1024 + 512), encoding: "utf8" });
    assert.is.not(cut.status, 0);
    assert.is(readFileSync(join(remote, "a"), "utf8"), "old a", "no file of the cut push is in place");
    assert.is(readFileSync(join(remote, "b"), "utf8"), "old b");
    assert.ok(existsSync(join(remote, ".cilo", stage)));
    spawnSync("touch", ["-d", "2 hours ago", join(remote, ".cilo", stage)]);
    // The next push (the manifest was not recorded: it compares with the first) sends both again.
    const again = walkChanges(local, "", first.now);
    assert.is(receive(remote, local, again).status, 0);
    assert.is(readFileSync(join(remote, "a"), "utf8"), "new a ".repeat(200));
    assert.is(readFileSync(join(remote, "b"), "utf8"), "new b ".repeat(200));
    assert.not.ok(existsSync(join(remote, ".cilo")), "the old stage was cleared");
  } finally {
    removeDir(base);
  }
});

test.run();
