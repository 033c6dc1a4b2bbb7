import { test } from "uvu";
import * as assert from "uvu/assert";
import { CiloError } from "../../src/core/errors.ts";
import { formatStepOutputs, parseStepOutputs } from "../../src/workflow/step-outputs.ts";

test("key=value lines; the value keeps = and spaces; later keys win; blank lines ignored", () => {
  assert.equal(parseStepOutputs("a=1\n\nurl=http://x/?q=1&r=2\nmsg= hi there \na=2\n"), { a: "2", url: "http://x/?q=1&r=2", msg: " hi there " });
  assert.equal(parseStepOutputs(""), {});
  assert.equal(parseStepOutputs("empty=\r\n"), { empty: "" });
});

test("GitHub's key<<DELIMITER form holds several lines", () => {
  const text = "before=1\nnotes<<EOF\nline one\n\nline = three\nEOF\nafter=2\n";
  assert.equal(parseStepOutputs(text), { before: "1", notes: "line one\n\nline = three", after: "2" });
  assert.equal(parseStepOutputs("x<<E\nE\n"), { x: "" });
});

test("a line that is neither form, a bad key or an unterminated heredoc is an error naming the line", () => {
  for (const [text, fragment] of [
    ["ok=1\njust text\n", "line 2"],
    ["bad key=1\n", "bad key"],
    ["notes<<EOF\nnever ends\n", 'never ends with a line "EOF"'],
  ] as const) {
    try {
      parseStepOutputs(text);
      assert.unreachable(text);
    } catch (e) {
      assert.instance(e, CiloError);
      assert.is((e as CiloError).code, "E_STEP_OUTPUT");
      assert.ok((e as Error).message.includes(fragment), (e as Error).message);
    }
  }
});

test("formatting round-trips, multi-line values get a heredoc with a delimiter not in the value", () => {
  const outputs = { env: "pr-42", diff: "--- a\n+++ b\n@@ -1 +1 @@\n-EOF\n+x", empty: "" };
  const text = formatStepOutputs(outputs);
  assert.match(text, /^env=pr-42\n/);
  assert.match(text, /diff<<ghadelimiter_[0-9a-f]{16}\n/);
  assert.equal(parseStepOutputs(text), outputs);
});

test.run();
