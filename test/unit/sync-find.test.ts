// The push's listing by GNU find (src/core/host/find-listing.ts, sync-walk.ts `listChanges`): on
// Linux, with no `.ciloignore` rules, the comparison with the last push is made from one `find`
// run instead of one lstat per entry from Node. It must answer exactly what the walk answers,
// on the same tree, with and without a last manifest and after every kind of change; the real
// find runs here (Debian's findutils, through systemFind: its output in a file of its own), and
// a find that cannot (fails, prints another form) gives the walk's answer. Two listings by the
// same lister are compared over their text (only the entries around a difference parsed): that
// must answer what parsing every entry answers.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FIND_ARGS, type FindRunner, startListing, systemFind } from "../../src/core/host/find-listing.ts";
import { changesFromFind, entriesOf, type Listed, listChanges, walkChanges, type WalkResult } from "../../src/core/host/sync-walk.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";

const scratch = tempDir("cilo-unit-find-scratch-");
const realFind: FindRunner = systemFind({ PATH: process.env["PATH"] ?? "/usr/bin:/bin" }, scratch)!;

/** A listing's entries by path (its signatures). */
function sigs(l: Listed): Map<string, string> {
  const m = entriesOf(l);
  assert.ok(m, "the listing is in its form");
  return m!;
}

/** A result in a form that does not depend on listing order. */
function canonical(w: WalkResult) {
  return {
    now: [...sigs(w.now)].sort(([a], [b]) => (a < b ? -1 : 1)),
    send: [...w.send].sort((a, b) => (a.path < b.path ? -1 : 1)),
    bytes: w.bytes,
    mkdirs: [...w.mkdirs].sort(),
    remove: [...w.remove].sort(),
    same: w.same,
  };
}

/** The result of a listing by find (not the walk it falls back to), in the order-free form. */
function byFind(w: WalkResult) {
  assert.is(w.listedBy, "find");
  return canonical(w);
}

/** A random tree of `n` entries: nested folders, files of several sizes and modes, symlinks, odd names, a fifo. */
function randomTree(dir: string, seed: number, n: number): void {
  let x = seed;
  const rnd = (k: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % k;
  };
  const dirs = [""];
  const names = ["a", "b c", "ünï", "new\nline", "-dash", ".hidden", "x*y", "[z]", "sp ace"];
  for (let i = 0; i < n; i++) {
    const parent = dirs[rnd(dirs.length)]!;
    const name = `${names[rnd(names.length)]}${i}`;
    const rel = parent === "" ? name : `${parent}/${name}`;
    const kind = rnd(10);
    if (kind < 2) {
      mkdirSync(join(dir, rel));
      dirs.push(rel);
    } else if (kind < 8) {
      writeFileSync(join(dir, rel), "x".repeat(rnd(3000)));
      chmodSync(join(dir, rel), [0o644, 0o755, 0o600, 0o4755, 0o2750][rnd(5)]!);
      // mtimes with every kind of fraction: whole seconds, .999…, a few ms
      const s = 1_700_000_000 + rnd(100_000);
      utimesSync(join(dir, rel), s, [s, s + 0.999, s + 0.001, s + 0.5][rnd(4)]!);
    } else symlinkSync(rnd(2) ? "../elsewhere" : name, join(dir, rel));
  }
  spawnSync("mkfifo", [join(dir, "fifo")]);
  mkdirSync(join(dir, ".cilo"), { recursive: true });
  writeFileSync(join(dir, ".cilo/push-manifest"), "m");
  mkdirSync(join(dir, ".git"));
  writeFileSync(join(dir, ".git/HEAD"), "h");
  mkdirSync(join(dir, "deep/.cilo"), { recursive: true }); // only the top-level one is left out
  writeFileSync(join(dir, "deep/.cilo/kept"), "k");
  utimesSync(join(dir, "deep/.cilo/kept"), 1_700_000_000, 1_700_000_000); // every file old: none racy for a walk now
}

/** A find that prints `text` and exits with `code`. */
function printing(code: number, text: string): FindRunner {
  return async () => ({ code, stdout: text });
}

async function viaFind(dir: string, last: Listed | undefined, walkedAt: number): Promise<WalkResult> {
  const r = await realFind(FIND_ARGS, dir);
  assert.is(r.code, 0, r.stdout);
  const listed = changesFromFind(dir, r.stdout, last, walkedAt);
  assert.ok(listed, "find's output is in the form");
  return listed!;
}

test("find's listing answers what the walk answers: first push, every change, racy mtimes", async () => {
  for (const seed of [1, 7, 42]) {
    const dir = tempDir("cilo-unit-find-");
    try {
      randomTree(dir, seed, 400);
      // Walks in the order they are made (an entry recorded alike is not judged racy again: its
      // mtime was older than the window then, so it is now).
      const t = Date.now();
      const first = walkChanges(dir, "", undefined, t);
      assert.equal(canonical(await viaFind(dir, undefined, t)), canonical(first), `seed ${seed}: no last push`);
      assert.ok(sigs(first.now).size > 300);
      // Unchanged: nothing to do; against find's own last listing, the same text (no manifest to write).
      const unchanged = await viaFind(dir, first.now, t);
      assert.equal([unchanged.send, unchanged.mkdirs, unchanged.remove], [[], [], []]);
      assert.not.ok(unchanged.same, "the walk's manifest: find's is written in its place");
      assert.ok((await viaFind(dir, unchanged.now, t)).same);
      // Every kind of change: edit, delete, a folder becoming a file, a file becoming a folder, a new link, a chmod.
      const files = [...sigs(first.now)].filter(([, s]) => s.startsWith("f")).map(([p]) => p);
      const folders = [...sigs(first.now)].filter(([, s]) => s === "d").map(([p]) => p);
      writeFileSync(join(dir, files[0]!), "changed");
      rmSync(join(dir, files[1]!));
      chmodSync(join(dir, files[2]!), 0o700);
      rmSync(join(dir, folders[folders.length - 1]!), { recursive: true });
      writeFileSync(join(dir, folders[folders.length - 1]!), "now a file");
      rmSync(join(dir, files[3]!), { force: true });
      mkdirSync(join(dir, files[3]!), { recursive: true });
      symlinkSync("target", join(dir, "newlink"));
      const now = Date.now();
      const walked = walkChanges(dir, "", first.now, now);
      const found = await viaFind(dir, first.now, now);
      assert.equal(canonical(found), canonical(walked), `seed ${seed}: after changes`);
      assert.ok(found.send.length >= 4 && found.remove.length >= 2 && found.mkdirs.length >= 1);
      assert.ok(
        [...sigs(found.now).values()].some((s) => s.endsWith(":racy")),
        "the just-written files are racy",
      );
    } finally {
      removeDir(dir);
    }
  }
});

test("listChanges: find used only without .ciloignore rules; a failing or foreign find gives the walk's answer", async () => {
  const dir = tempDir("cilo-unit-find-");
  try {
    randomTree(dir, 3, 80);
    const t = Date.now() + 60_000;
    const expected = canonical(walkChanges(dir, "", undefined, t));
    let calls = 0;
    const counting: FindRunner = (args, cwd) => {
      calls++;
      return realFind(args, cwd);
    };
    const listing = { ...startListing(dir, "# only a comment\n\n", counting), walkedAt: t };
    assert.equal(byFind(await listChanges(listing, dir, "# only a comment\n\n", undefined)), expected);
    assert.is(calls, 1);
    const ruled = startListing(dir, "*.log\n", counting);
    assert.is(ruled.find, undefined, "rules: the walk prunes what they ignore");
    assert.is(calls, 1);
    for (const broken of [
      printing(1, ""), // find failed (an unreadable folder)
      printing(0, "./a\n./b\n"), // a find without -printf
      printing(0, "f\0a\0"), // cut short
      printing(0, "f\0a\0\0"), // fields missing
      printing(0, "d\0a\0x\0\0"), // a field too many
      printing(0, ["f", "/abs", "1", "1.0", "644", "", ""].join("\0")), // not relative
      printing(0, ["f", "a", "x", "1.0", "644", "", ""].join("\0")), // not a size
      printing(0, ["f", "a", "1", "-1.0", "644", "", ""].join("\0")), // before 1970
      printing(0, ["f", "a", "1", "r1.0", "644", "", ""].join("\0")), // racy: a manifest's mark, never find's
      printing(0, ["f", "a", "1", "1.0", "9", "", ""].join("\0")), // not a mode
    ] satisfies FindRunner[]) {
      const l = { ...startListing(dir, "", broken), walkedAt: t };
      const w = await listChanges(l, dir, "", undefined);
      assert.is(w.listedBy, "walk");
      assert.equal(canonical(w), expected);
    }
  } finally {
    removeDir(dir);
  }
});

test("the text comparison answers what parsing every entry answers: edits, new and gone entries, folders, a reordered listing", async () => {
  for (const seed of [2, 5, 9, 13]) {
    const dir = tempDir("cilo-unit-find-");
    try {
      randomTree(dir, seed, 500);
      const t0 = Date.now() + 60_000;
      const last = (await viaFind(dir, undefined, t0)).now;
      let x = seed;
      const rnd = (k: number) => {
        x = (x * 1103515245 + 12345) % 2147483648;
        return x % k;
      };
      const files = [...sigs(last)].filter(([, s]) => s.startsWith("f")).map(([p]) => p);
      // A handful of edits spread over the listing, a new folder of many files, a deletion, a rename.
      for (let i = 0; i < 5; i++) writeFileSync(join(dir, files[rnd(files.length)]!), `edit ${i} ${"y".repeat(rnd(50))}`);
      mkdirSync(join(dir, `fresh${seed}`));
      for (let i = 0; i < 60; i++) writeFileSync(join(dir, `fresh${seed}/n${i}`), "n");
      rmSync(join(dir, files[rnd(files.length)]!), { force: true });
      const moved = files[rnd(files.length)]!;
      try {
        renameSync(join(dir, moved), join(dir, `moved${seed}`));
      } catch {
        // removed just above
      }
      const t = Date.now() + 60_000;
      const byText = await viaFind(dir, last, t);
      // The same manifest said to come from the other lister: every entry is parsed and compared.
      const byEntry = await viaFind(dir, { by: "walk", text: last.text }, t);
      assert.equal(canonical(byText), canonical(byEntry), `seed ${seed}`);
      assert.equal(canonical(byText), canonical(walkChanges(dir, "", last, t)), `seed ${seed}: the walk`);
      assert.ok(byText.send.length >= 60 && byText.remove.length >= 1 && byText.mkdirs.includes(`fresh${seed}`));
      assert.ok((await viaFind(dir, byText.now, t)).same, "recorded: nothing changed since");
      // A listing in another order (the same entries): still the same answer.
      const entries = byText.now.text.split("\0\0").slice(0, -1);
      const reordered = { by: "find" as const, text: `${[...entries].reverse().join("\0\0")}\0\0` };
      const again = await viaFind(dir, reordered, t);
      assert.equal([again.send, again.mkdirs, again.remove], [[], [], []], `seed ${seed}: reordered`);
    } finally {
      removeDir(dir);
    }
  }
});

test("a manifest not in the form (edited) counts as none: everything is sent, nothing removed", async () => {
  const dir = tempDir("cilo-unit-find-");
  try {
    randomTree(dir, 21, 100);
    const t = Date.now() + 60_000;
    const last = (await viaFind(dir, undefined, t)).now;
    const all = (await viaFind(dir, undefined, t)).send.length;
    for (const text of [last.text.replace("\0\0", "\0x\0\0"), `${last.text}f\0../../etc/passwd\0\0`, `${last.text}zzz\0\0`]) {
      const w = await viaFind(dir, { by: "find", text }, t);
      assert.is(w.send.length, all);
      assert.equal(w.remove, []);
    }
  } finally {
    removeDir(dir);
  }
});

test("find's mtimes: the floor of the ms, whole seconds kept whole (the coarse racy rule)", () => {
  const out = [
    ["f", "a", "5", "1700000000.9999999999", "644"],
    ["f", "b", "5", "1700000000.0000000000", "644"],
    ["f", "c", "5", "1700000000.5", "4755"],
    ["f", "d", "5", "1700000000", "644"],
  ]
    .map((e) => `${e.join("\0")}\0\0`)
    .join("");
  const w = changesFromFind("/nonexistent", out, undefined, Date.now())!;
  const m = sigs(w.now);
  assert.is(m.get("a"), "f5:1700000000999:420");
  assert.is(m.get("b"), "f5:1700000000000:420");
  assert.is(m.get("c"), "f5:1700000000500:2541");
  assert.is(m.get("d"), "f5:1700000000000:420");
});

test("systemFind: find's output read back whole from its own file, nothing left in the scratch folder", async () => {
  const dir = tempDir("cilo-unit-find-");
  try {
    randomTree(dir, 4, 200);
    const viaPipe = spawnSync("find", FIND_ARGS, { cwd: dir, encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
    const r = await realFind(FIND_ARGS, dir);
    assert.is(r.code, 0);
    assert.is(r.stdout, viaPipe.stdout);
    assert.equal(readdirSync(scratch), []);
    assert.is((await realFind(["/nonexistent-cilo"], dir)).code, 1, "find's exit code");
  } finally {
    removeDir(dir);
  }
});

test.after(() => removeDir(scratch));

test.run();
