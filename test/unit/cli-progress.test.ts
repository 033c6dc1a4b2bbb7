import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatBytes, formatCopyDone, formatCopyProgress, LiveLine } from "../../src/cli/progress.ts";

test("formatBytes: bytes as a person reads them (powers of 1000)", () => {
  assert.is(formatBytes(0), "0 B");
  assert.is(formatBytes(950), "950 B");
  assert.is(formatBytes(12_345), "12.3 kB");
  assert.is(formatBytes(150_000_000), "150 MB");
  assert.is(formatBytes(1_234_000_000), "1.2 GB");
});

test("formatCopyProgress / formatCopyDone: files, bytes and the rate once time has passed", () => {
  assert.is(formatCopyProgress({ files: 1, bytes: 10 }, 0), "Copying the workspace: 1 file, 10 B");
  assert.is(formatCopyProgress({ files: 12_345, bytes: 300_000_000 }, 2_000), "Copying the workspace: 12,345 files, 300 MB (150 MB/s)");
  assert.is(formatCopyDone({ files: 12_345, bytes: 300_000_000 }, 2_000), "Copied 12,345 files, 300 MB in 2.0 s (150 MB/s)");
});

test("LiveLine: nothing before the delay, at most one redraw per interval, the last value kept at the end", () => {
  let now = 0;
  const out: string[] = [];
  const line = new LiveLine<number>((n, ms) => `n=${n} t=${ms}`, { write: (s) => out.push(s), now: () => now, delayMs: 250, intervalMs: 100 });
  line.update(1);
  now = 200;
  line.update(2);
  assert.equal(out, [], "a quick operation draws nothing");
  now = 250;
  line.update(3);
  now = 300;
  line.update(4);
  now = 350;
  line.update(5);
  assert.equal(out, ["\r\x1b[Kn=3 t=250", "\r\x1b[Kn=5 t=350"]);
  now = 400;
  line.update(6);
  line.end((n, ms) => `done ${n} in ${ms}`);
  line.update(7);
  line.end();
  assert.equal(out.slice(2), ["\r\x1b[Kdone 6 in 400\n"], "end erases the line and prints the final one once");
});

test("LiveLine: ending a line that was never drawn prints nothing", () => {
  const out: string[] = [];
  const line = new LiveLine<number>(String, { write: (s) => out.push(s), now: () => 0 });
  line.update(1);
  line.end();
  assert.equal(out, []);
});

test("LiveLine: end() before the first value (a notice before the copy starts) does not end it", () => {
  let now = 0;
  const out: string[] = [];
  const line = new LiveLine<number>((n) => `n=${n}`, { write: (s) => out.push(s), now: () => now, delayMs: 0 });
  line.end();
  now = 10;
  line.update(1);
  line.end((n) => `done ${n}`);
  assert.equal(out, ["\r\x1b[Kn=1", "\r\x1b[Kdone 1\n"]);
});

test.run();
