import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isRecord } from "../../src/core/is-record.ts";
import { which } from "../../src/core/proc/which.ts";
import { lineBuffer } from "../../src/workflow/line-buffer.ts";
import { plainRenderer } from "../../src/workflow/render/plain-renderer.ts";

test("which: only a file with the execute bit is found on PATH", () => {
  const dir = mkdtempSync(join(tmpdir(), "oneof-which-"));
  try {
    const bin = join(dir, "oneof-tool");
    writeFileSync(bin, "#!/bin/sh\n");
    chmodSync(bin, 0o644);
    assert.is(which("oneof-tool", { PATH: dir }), undefined);
    assert.is(which(bin, {}), undefined, "a path is checked too");
    chmodSync(bin, 0o755);
    assert.is(which("oneof-tool", { PATH: `/nonexistent:${dir}` }), bin);
    assert.is(which(bin, {}), bin);
    assert.is(which("oneof-tool", { PATH: "" }, [dir]), bin, "extra folders after PATH");
    assert.is(which("oneof-missing", { PATH: dir }), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("isRecord: plain objects only", () => {
  assert.ok(isRecord({}));
  for (const v of [null, undefined, [], "x", 1, true]) assert.not.ok(isRecord(v), String(v));
});

test("lineBuffer: whole lines per stream, CR dropped, the rest on flush", () => {
  const got: string[] = [];
  const b = lineBuffer((l, s) => got.push(`${s}:${l}`));
  b.write("a\r\nb", "stdout");
  b.write("c\n", "stdout");
  b.write("err", "stderr");
  b.write("tail", "stdout");
  b.flush();
  assert.equal(got, ["stdout:a", "stdout:bc", "stdout:tail", "stderr:err"]);
});

test("plain renderer strips every escape sequence, ESC ( B included", () => {
  let out = "";
  const r = plainRenderer((t) => (out += t));
  r.onEvent({ type: "step_output", ts: "2030-01-02T03:04:05.000Z", path: "1", stream: "stdout", line: "\x1b[1mbold\x1b(B\x1b[m done" });
  assert.not.match(out, /\x1b/);
  assert.match(out, /bold done/);
});

test.run();
