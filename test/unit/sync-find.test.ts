// The push's listing by GNU find (src/core/host/sync-walk.ts `startListing`/`listChanges`): on
// Linux, with no `.ciloignore` rules, the comparison with the last push is made from one `find`
// run instead of one lstat per entry from Node. It must answer exactly what the walk answers,
// on the same tree, with and without a last manifest and after every kind of change; the real
// find runs here (Debian's findutils), and a find that cannot (fails, prints another form) gives
// the walk's answer.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { run } from "../../src/core/proc/run.ts";
import { changesFromFind, FIND_ARGS, type FindRunner, listChanges, startListing, walkChanges, type WalkResult } from "../../src/core/host/sync-walk.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";

const realFind: FindRunner = (args, cwd, onOutput) =>
  run("find", args, { cwd, env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", LC_ALL: "C" }, onOutput: (c, stream) => stream === "stdout" && onOutput(c) });

/** A result in a form that does not depend on listing order. */
function canonical(w: WalkResult) {
  return {
    now: [...w.now].sort(([a], [b]) => (a < b ? -1 : 1)),
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
}

/** A find that prints `text` in chunks of 7 characters (entries cut anywhere) and exits with `code`. */
function printing(code: number, text: string): FindRunner {
  return async (_args, _cwd, onOutput) => {
    for (let i = 0; i < text.length; i += 7) onOutput(text.slice(i, i + 7));
    return { code };
  };
}

async function viaFind(dir: string, last: WalkResult["now"] | undefined, walkedAt: number): Promise<WalkResult> {
  let out = "";
  const r = await realFind(FIND_ARGS, dir, (c) => {
    out += c;
  });
  assert.is(r.code, 0, out);
  const listed = changesFromFind(dir, out, last, walkedAt);
  assert.ok(listed, "find's output is in the form");
  return listed!;
}

test("find's listing answers what the walk answers: first push, every change, racy mtimes", async () => {
  for (const seed of [1, 7, 42]) {
    const dir = tempDir("cilo-unit-find-");
    try {
      randomTree(dir, seed, 400);
      const t = Date.now() + 60_000;
      const first = walkChanges(dir, "", undefined, t);
      assert.equal(canonical(await viaFind(dir, undefined, t)), canonical(first), `seed ${seed}: no last push`);
      assert.ok(first.now.size > 300);
      // Unchanged: same.
      assert.ok((await viaFind(dir, first.now, t)).same);
      // Every kind of change: edit, delete, a folder becoming a file, a file becoming a folder, a new link, a chmod.
      const files = [...first.now].filter(([, s]) => s.startsWith("f")).map(([p]) => p);
      const folders = [...first.now].filter(([, s]) => s === "d").map(([p]) => p);
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
        [...found.now.values()].some((s) => s.endsWith(":racy")),
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
    const counting: FindRunner = (args, cwd, onOutput) => {
      calls++;
      return realFind(args, cwd, onOutput);
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
      printing(0, ["f", "/abs", "1", "1.0", "644", "", ""].join("\0")), // not relative
      printing(0, ["f", "a", "x", "1.0", "644", "", ""].join("\0")), // not a size
      printing(0, ["f", "a", "1", "-1.0", "644", "", ""].join("\0")), // before 1970
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

test("find's output compared as it comes: cut anywhere, before and after the last manifest is known", async () => {
  const dir = tempDir("cilo-unit-find-");
  try {
    randomTree(dir, 11, 300);
    const t = Date.now() + 60_000;
    const first = walkChanges(dir, "", undefined, t);
    writeFileSync(join(dir, [...first.now].find(([, s]) => s.startsWith("f"))![0]), "edited");
    const expected = canonical(walkChanges(dir, "", first.now, t));
    let out = "";
    await realFind(FIND_ARGS, dir, (c) => {
      out += c;
    });
    for (const size of [1, 5, 6, 64, 4096]) {
      // Half of the chunks arrive before listChanges is called (kept), the rest after (compared as they come).
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const staged: FindRunner = async (_args, _cwd, onOutput) => {
        const cut = Math.floor(out.length / 2);
        for (let i = 0; i < cut; i += size) onOutput(out.slice(i, Math.min(i + size, cut)));
        await gate;
        for (let i = cut; i < out.length; i += size) onOutput(out.slice(i, Math.min(i + size, out.length)));
        return { code: 0 };
      };
      const listing = { ...startListing(dir, "", staged), walkedAt: t };
      const result = listChanges(listing, dir, "", first.now);
      release();
      assert.equal(byFind(await result), expected, `chunks of ${size}`);
    }
  } finally {
    removeDir(dir);
  }
});

test("find's mtimes: the floor of the ms, whole seconds kept whole (the coarse racy rule)", () => {
  const out = [
    "f",
    "a",
    "5",
    "1700000000.9999999999",
    "644",
    "",
    "f",
    "b",
    "5",
    "1700000000.0000000000",
    "644",
    "",
    "f",
    "c",
    "5",
    "1700000000.5",
    "4755",
    "",
    "",
  ].join("\0");
  const w = changesFromFind("/nonexistent", out, undefined, Date.now())!;
  assert.is(w.now.get("a"), "f5:1700000000999:420");
  assert.is(w.now.get("b"), "f5:1700000000000:420");
  assert.is(w.now.get("c"), "f5:1700000000500:2541");
});

test.run();
