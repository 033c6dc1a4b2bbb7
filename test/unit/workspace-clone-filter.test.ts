import { test } from "uvu";
import * as assert from "uvu/assert";
import { cloneFilter } from "../../src/core/workspace/clone-filter.ts";

const IGNORE = ["# build output", "node_modules/", "dist/", "*.log", "!keep.log", "/secret.txt", ".env*", ""].join("\n");

test("without rules every entry is copied and no folder needs a walk for includes", () => {
  const f = cloneFilter({});
  assert.ok(f.copies("a.txt", false));
  assert.ok(f.copies("deep/er/b.bin", false));
  assert.ok(f.copies("node_modules", true));
  assert.not.ok(f.descends("node_modules"));
});

test(".ciloignore lines follow gitignore rules: folders, globs, negation, anchoring", () => {
  const f = cloneFilter({ ignoreFile: IGNORE });
  assert.not.ok(f.copies("node_modules", true));
  assert.not.ok(f.copies("web/node_modules", true), "an unanchored folder pattern matches at any depth");
  assert.ok(f.copies("node_modules", false), "a folder-only pattern leaves a file of that name");
  assert.not.ok(f.copies("app.log", false));
  assert.not.ok(f.copies("logs/app.log", false));
  assert.ok(f.copies("keep.log", false));
  assert.not.ok(f.copies("secret.txt", false));
  assert.ok(f.copies("sub/secret.txt", false), "a leading slash anchors to the project folder");
  assert.not.ok(f.copies(".env.local", false));
  assert.ok(f.copies("src/index.ts", false));
  assert.ok(f.copies("src", true));
});

test("exclude patterns act like more .ciloignore lines", () => {
  const f = cloneFilter({ ignoreFile: "*.log\n", exclude: ["fixtures/big/", "*.tmp"] });
  assert.not.ok(f.copies("fixtures/big", true));
  assert.ok(f.copies("fixtures/small", true));
  assert.not.ok(f.copies("x.tmp", false));
  assert.not.ok(f.copies("x.log", false));
});

test("include re-includes excluded files; comments and blank patterns are ignored", () => {
  const f = cloneFilter({ ignoreFile: IGNORE, include: [".env", "  ", "# not a pattern"] });
  assert.ok(f.copies(".env", false));
  assert.ok(f.copies("api/.env", false), "a pattern without a slash matches at any depth");
  assert.not.ok(f.copies(".env.local", false));
  assert.not.ok(f.copies("app.log", false), "blank and comment includes include nothing");
});

test("include of a folder copies it whole", () => {
  const f = cloneFilter({ ignoreFile: IGNORE, include: ["dist/"] });
  assert.ok(f.copies("dist", true));
  assert.ok(f.copies("dist/a/b.js", false));
  assert.ok(f.copies("dist/app.log", false), "an included folder brings its excluded-looking files too");
});

test("an anchored include reaches into an excluded folder, and only where it can match", () => {
  const f = cloneFilter({ ignoreFile: IGNORE, include: ["dist/config.json", "packages/*/dist/index.js"] });
  assert.not.ok(f.copies("dist", true));
  assert.ok(f.descends("dist"));
  assert.ok(f.copies("dist/config.json", false));
  assert.not.ok(f.copies("dist/other.js", false));
  assert.not.ok(f.descends("node_modules"), "no include can match under node_modules");
  assert.ok(f.descends("packages/web/dist"));
  assert.not.ok(f.descends("packages/web/dist/sub"));
  assert.not.ok(f.descends("packages/web/src"));
  assert.ok(f.copies("packages/web/dist/index.js", false));
  assert.not.ok(f.copies("packages/web/dist/chunk.js", false));
});

test("an include reaches into excluded folders through ** and glob segments", () => {
  const f = cloneFilter({ ignoreFile: "vendor/\nbuild/\n", include: ["vendor/**/LICENSE", "/build/[ab]*/keep.txt"] });
  assert.ok(f.descends("vendor"));
  assert.ok(f.descends("vendor/x/y/z"));
  assert.ok(f.copies("vendor/x/y/LICENSE", false));
  assert.not.ok(f.copies("vendor/x/y/README", false));
  assert.ok(f.descends("build/alpha"));
  assert.not.ok(f.descends("build/gamma"));
  assert.ok(f.copies("build/beta/keep.txt", false));
});

test("an include without a slash may match anywhere, so every excluded folder is walked", () => {
  const f = cloneFilter({ ignoreFile: IGNORE, include: ["*.pem", "!not-this.pem"] });
  assert.ok(f.descends("node_modules"));
  assert.ok(f.descends("node_modules/pkg/certs"));
  assert.ok(f.copies("node_modules/pkg/certs/ca.pem", false));
  assert.not.ok(f.copies("node_modules/pkg/index.js", false));
  assert.not.ok(f.copies("node_modules/pkg/not-this.pem", false), "a negated include un-includes");
});

test.run();
