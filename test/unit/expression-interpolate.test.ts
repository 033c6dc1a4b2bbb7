import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ExpressionContext } from "../../src/workflow/expression/context.ts";
import { ExpressionError } from "../../src/workflow/expression/errors.ts";
import { parseCondition } from "../../src/workflow/expression/template.ts";
import {
  conditionNeedsImplicitSuccess,
  evaluateCondition,
  interpolate,
  interpolateDeep,
  interpolateValue,
  resolveVars,
} from "../../src/workflow/interpolate.ts";

const ctx: ExpressionContext = {
  vars: { env: "pr-7", n: 3, flag: false, list: ["a", "b"] },
  env: { USER: "dev" },
  cilo: { env: "pr-7", dns_suffix: "test" },
};

test("interpolate replaces every ${{ }} with text", () => {
  assert.is(interpolate("http://api.${{ cilo.env }}.${{ cilo.dns_suffix }}/health", ctx), "http://api.pr-7.test/health");
  assert.is(interpolate("n=${{ vars.n }} flag=${{ vars.flag }} none=${{ vars.nope }}", ctx), "n=3 flag=false none=");
  assert.is(interpolate("${{ vars.list }}", ctx), '["a","b"]');
  assert.is(interpolate("no expressions, {{ braces }} and $HOME", ctx), "no expressions, {{ braces }} and $HOME");
});

test("interpolateValue keeps the type of a string that is exactly one expression", () => {
  assert.is(interpolateValue("${{ vars.n }}", ctx), 3);
  assert.is(interpolateValue("${{ vars.flag }}", ctx), false);
  assert.equal(interpolateValue("${{ vars.list }}", ctx), ["a", "b"]);
  assert.is(interpolateValue("${{ vars.nope }}", ctx), null);
  assert.is(interpolateValue(" ${{ vars.n }}", ctx), " 3", "surrounding text makes it a string");
  assert.is(interpolateValue("${{ vars.n }}${{ vars.n }}", ctx), "33");
  assert.is(interpolateValue("plain", ctx), "plain");
});

test("interpolateDeep interpolates strings inside mappings and lists and keeps other values", () => {
  const action = { service: "api", command: ["echo", "${{ vars.env }}"], build: true, timeout: 30, http: { url: "http://${{ cilo.env }}" } };
  assert.equal(interpolateDeep(action, ctx), {
    service: "api",
    command: ["echo", "pr-7"],
    build: true,
    timeout: 30,
    http: { url: "http://pr-7" },
  });
  assert.is(interpolateDeep({ n: "${{ vars.n }}" }, ctx).n, "3", "strings stay strings");
  assert.is(action.command[1], "${{ vars.env }}", "the input is not modified");
});

test("errors in templates name the column within the string", () => {
  try {
    interpolate("x ${{ fromJSON('{') }}", ctx);
    assert.unreachable("no error");
  } catch (e) {
    assert.instance(e, ExpressionError);
    assert.is((e as ExpressionError).offset, 6);
  }
});

const ok = { failed: false, cancelled: false };
const failed = { failed: true, cancelled: false };
const cancelled = { failed: false, cancelled: true };

test("a condition without a status function gets an implicit success() &&", () => {
  assert.is(conditionNeedsImplicitSuccess(parseCondition("vars.n == 3")), true);
  assert.is(conditionNeedsImplicitSuccess(parseCondition("always()")), false);
  assert.is(conditionNeedsImplicitSuccess(parseCondition("${{ vars.n == 3 && failure() }}")), false);
  assert.is(evaluateCondition("vars.n == 3", { ...ctx, status: ok }), true);
  assert.is(evaluateCondition("vars.n == 3", { ...ctx, status: failed }), false);
  assert.is(evaluateCondition("vars.n == 3", { ...ctx, status: cancelled }), false);
  assert.is(evaluateCondition("vars.n == 4", { ...ctx, status: ok }), false);
});

test("status functions decide on their own", () => {
  assert.is(evaluateCondition("always()", { status: failed }), true);
  assert.is(evaluateCondition("always()", { status: cancelled }), true);
  assert.is(evaluateCondition("failure()", { status: ok }), false);
  assert.is(evaluateCondition("failure()", { status: failed }), true);
  assert.is(evaluateCondition("${{ failure() && vars.n == 3 }}", { ...ctx, status: failed }), true);
  assert.is(evaluateCondition("cancelled()", { status: cancelled }), true);
  assert.is(evaluateCondition("success() || vars.flag", { ...ctx, status: failed }), false);
  assert.is(evaluateCondition("!cancelled()", { status: failed }), true, "runs after a failure, not after Ctrl-C");
});

test("no condition and boolean conditions", () => {
  assert.is(evaluateCondition(undefined, { status: ok }), true);
  assert.is(evaluateCondition(undefined, { status: failed }), false);
  assert.is(evaluateCondition(true, { status: ok }), true);
  assert.is(evaluateCondition(true, { status: failed }), false);
  assert.is(evaluateCondition(false, { status: ok }), false);
  assert.is(evaluateCondition("${{ vars.list }}", { ...ctx, status: ok }), true, "truthy values count as true");
  assert.is(evaluateCondition("vars.nope", { ...ctx, status: ok }), false);
});

test("resolveVars evaluates in order, each var seeing the ones above", () => {
  const vars = resolveVars(
    { env: "pr-${{ env.PR_NUMBER || 'local' }}", url: "http://api.${{ vars.env }}.test", n: 2, on: true, same: "${{ vars.n }}" },
    { env: {} },
  );
  assert.equal(vars, { env: "pr-local", url: "http://api.pr-local.test", n: 2, on: true, same: 2 });
});

test("resolveVars takes overrides literally and lets later vars see them", () => {
  const vars = resolveVars({ env: "pr-${{ env.PR_NUMBER }}", url: "${{ vars.env }}.test" }, { env: { PR_NUMBER: "1" } }, { env: "${{ not evaluated }}" });
  assert.equal(vars, { env: "${{ not evaluated }}", url: "${{ not evaluated }}.test" });
});

test.run();
