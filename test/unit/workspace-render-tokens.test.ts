import { test } from "uvu";
import * as assert from "uvu/assert";
import { replaceTokens, type RenderTokens } from "../../src/core/workspace/render-env-files.ts";

const TOKENS: RenderTokens = {
  CILO_ENV: "feat-login",
  CILO_PROJECT: "shop",
  CILO_BASE_URL: "http://shop.feat-login.test",
  CILO_DNS_SUFFIX: "test",
  CILO_WORKSPACE: "/home/me/.cilo/envs/shop/feat-login",
};

const render = (text: string, tokens = TOKENS) => replaceTokens(Buffer.from(text, "utf8"), tokens).toString("utf8");

test("replaces each of the five tokens, every time it occurs", () => {
  const input = [
    "ENV=${CILO_ENV}",
    "PROJECT=${CILO_PROJECT}",
    "URL=${CILO_BASE_URL}/api?env=${CILO_ENV}",
    "API=api.${CILO_ENV}.${CILO_DNS_SUFFIX}",
    "DIR=${CILO_WORKSPACE}",
  ].join("\n");
  assert.is(
    render(input),
    [
      "ENV=feat-login",
      "PROJECT=shop",
      "URL=http://shop.feat-login.test/api?env=feat-login",
      "API=api.feat-login.test",
      "DIR=/home/me/.cilo/envs/shop/feat-login",
    ].join("\n"),
  );
});

test("leaves every other ${...} and look-alike alone", () => {
  const input = "A=${HOME} B=$CILO_ENV C=${CILO_ENVX} D=${ CILO_ENV } E=${cilo_env} F=${CILO_ENV:-x} G=$${CILO} H=${CILO_";
  assert.is(render(input), input);
});

test("a file without tokens comes back byte for byte", () => {
  const bytes = Buffer.from([0x41, 0x3d, 0xff, 0xfe, 0x00, 0x24, 0x7b, 0x0a]);
  assert.ok(replaceTokens(bytes, TOKENS).equals(bytes));
});

test("bytes that are not UTF-8 survive, and values are written as UTF-8", () => {
  const input = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("=${CILO_ENV};"), Buffer.from([0xe9, 0x0a])]);
  const out = replaceTokens(input, { ...TOKENS, CILO_ENV: "zoë" });
  assert.ok(out.equals(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("=zoë;", "utf8"), Buffer.from([0xe9, 0x0a])])));
});

test("replacement patterns in values are taken literally", () => {
  assert.is(render("X=${CILO_PROJECT}", { ...TOKENS, CILO_PROJECT: "$&-$1-$$-$'" }), "X=$&-$1-$$-$'");
});

test("works on a view into a larger buffer", () => {
  const big = Buffer.from("xxxxENV=${CILO_ENV}yyyy");
  const view = big.subarray(4, 19);
  assert.is(replaceTokens(view, TOKENS).toString(), "ENV=feat-login");
});

test.run();
