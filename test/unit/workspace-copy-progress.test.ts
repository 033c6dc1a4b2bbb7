import { mkdirSync, writeFileSync } from "node:fs";
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

test.run();
