import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cloneFilter } from "../../src/core/workspace/clone-filter.ts";
import { copyTree, type CopyProgress } from "../../src/core/workspace/copy-tree.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";

test("copyTree reports every file and byte copied, the totals growing to the tree's", async () => {
  const src = tempDir("cilo-copyprog-src-");
  const dest = tempDir("cilo-copyprog-dest-");
  try {
    for (let d = 0; d < 5; d++) {
      mkdirSync(join(src, `d${d}`));
      for (let f = 0; f < 40; f++) writeFileSync(join(src, `d${d}`, `f${f}`), "x".repeat(100 + f));
    }
    const seen: CopyProgress[] = [];
    const r = await copyTree(src, dest, { filter: cloneFilter({}), onProgress: (p) => seen.push(p) });
    assert.is(r.files, 200);
    assert.is(seen.length, 200, "once per file");
    assert.equal(seen.at(-1), { files: 200, bytes: 5 * (40 * 100 + (39 * 40) / 2) });
    assert.ok(
      seen.every((p, i) => i === 0 || (p.files > seen[i - 1]!.files && p.bytes > seen[i - 1]!.bytes)),
      "the totals only grow",
    );
  } finally {
    removeDir(src);
    removeDir(dest);
  }
});

test("copyTree keeps exact modes under any umask, copies large files whole and overwrites a file already there", async () => {
  const src = tempDir("cilo-copymode-src-");
  const dest = tempDir("cilo-copymode-dest-");
  const umask = process.umask(0o077);
  try {
    mkdirSync(join(src, "bin"));
    writeFileSync(join(src, "bin", "run.sh"), "#!/bin/sh\n");
    chmodSync(join(src, "bin", "run.sh"), 0o755);
    chmodSync(join(src, "bin"), 0o750);
    writeFileSync(join(src, "readme"), "hello\n");
    chmodSync(join(src, "readme"), 0o644);
    writeFileSync(join(src, "empty"), "");
    chmodSync(join(src, "empty"), 0o604);
    const big = Buffer.alloc(3 * (1 << 20) + 5);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    writeFileSync(join(src, "big.bin"), big);
    chmodSync(join(src, "big.bin"), 0o640);
    const edge = Buffer.alloc(1 << 20, 1); // exactly the largest file copied by the walk itself
    writeFileSync(join(src, "edge.bin"), edge);
    writeFileSync(join(dest, "readme"), "an older and longer text that must go\n");
    const r = await copyTree(src, dest, { filter: cloneFilter({}) });
    assert.is(r.files, 5);
    assert.is(r.bytes, 10 + 6 + 0 + big.length + edge.length);
    const mode = (rel: string) => statSync(join(dest, rel)).mode & 0o7777;
    assert.equal(["bin", "bin/run.sh", "readme", "big.bin"].map(mode), [0o750, 0o755, 0o644, 0o640]);
    assert.is(mode("empty"), 0o604);
    assert.is(readFileSync(join(dest, "readme"), "utf8"), "hello\n");
    assert.ok(readFileSync(join(dest, "big.bin")).equals(big), "the large file arrives whole");
    assert.ok(readFileSync(join(dest, "edge.bin")).equals(edge));
    assert.is(readFileSync(join(dest, "empty")).length, 0);
  } finally {
    process.umask(umask);
    removeDir(src);
    removeDir(dest);
  }
});

test("copyTree into a folder that holds links already replaces them, never writes through them", async () => {
  const src = tempDir("cilo-copylink-src-");
  const dest = tempDir("cilo-copylink-dest-");
  const outside = tempDir("cilo-copylink-out-");
  try {
    writeFileSync(join(src, "small"), "from the source\n");
    writeFileSync(join(src, "large"), Buffer.alloc(2 * (1 << 20), 3));
    symlinkSync("elsewhere", join(src, "link"));
    for (const name of ["small", "large", "victim-link"]) writeFileSync(join(outside, name), "outside\n");
    symlinkSync(join(outside, "small"), join(dest, "small"));
    symlinkSync(join(outside, "large"), join(dest, "large"));
    writeFileSync(join(dest, "link"), "a file in the way of a link\n");
    await copyTree(src, dest, { filter: cloneFilter({}), preserve: true });
    for (const name of ["small", "large"]) {
      assert.is(readFileSync(join(outside, name), "utf8"), "outside\n", `${name}: nothing written through the link`);
      assert.ok(lstatSync(join(dest, name)).isFile(), `${name} is a file of its own`);
    }
    assert.is(readFileSync(join(dest, "small"), "utf8"), "from the source\n");
    assert.is(readFileSync(join(dest, "large")).length, 2 * (1 << 20));
    assert.is(readlinkSync(join(dest, "link")), "elsewhere");
  } finally {
    removeDir(src);
    removeDir(dest);
    removeDir(outside);
  }
});

test("copyTree gives the event loop turns while it walks, and an abort stops it part-way", async () => {
  const src = tempDir("cilo-copyturn-src-");
  const dest = tempDir("cilo-copyturn-dest-");
  try {
    for (let d = 0; d < 40; d++) {
      mkdirSync(join(src, `d${d}`));
      for (let f = 0; f < 100; f++) writeFileSync(join(src, `d${d}`, `f${f}`), `${d}/${f}\n`);
    }
    let turns = 0;
    const ticker = setInterval(() => turns++, 1);
    const whole = await copyTree(src, dest, { filter: cloneFilter({}) }).finally(() => clearInterval(ticker));
    assert.is(whole.files, 4000);
    assert.ok(turns > 0, "timers ran during the copy");

    const ac = new AbortController();
    mkdirSync(join(dest, "again"));
    let seen = 0;
    const err = await copyTree(src, join(dest, "again"), {
      filter: cloneFilter({}),
      signal: ac.signal,
      onProgress: (p) => {
        seen = p.files;
        if (p.files === 50) ac.abort();
      },
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.is(err?.name, "AbortError");
    const copied = readdirSync(join(dest, "again"), { recursive: true }).length;
    assert.ok(seen < 4000 && copied < 4040, `stopped part-way: ${seen} files reported, ${copied} entries made`);
  } finally {
    removeDir(src);
    removeDir(dest);
  }
});

test.run();
