import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ExpressionContext } from "../../src/workflow/expression/context.ts";
import { ExpressionError } from "../../src/workflow/expression/errors.ts";
import { evaluate } from "../../src/workflow/expression/evaluator.ts";
import { parseExpression } from "../../src/workflow/expression/parser.ts";
import type { Value } from "../../src/workflow/expression/values.ts";

const ctx: ExpressionContext = {
  vars: { name: "api", count: 3, zero: 0, empty: "", on: true, list: ["a", "b", 2], nested: { deep: { x: "y" } }, num: "42" },
  env: { HOME: "/home/u", PR_NUMBER: undefined, EMPTY: "" },
  cilo: { env: "feat-x", project: "shop", workspace: "/w", base_url: "http://shop.feat-x.test", dns_suffix: "test" },
  steps: { build: { outputs: { url: "http://x", n: 5 }, outcome: "success" }, lint: { outputs: {}, outcome: "failure" } },
  status: { failed: false, cancelled: false },
};

const ev = (src: string, c: ExpressionContext = ctx): Value => evaluate(parseExpression(src), c);

test("reads contexts, nested properties and indexes", () => {
  assert.is(ev("vars.name"), "api");
  assert.is(ev("vars.nested.deep.x"), "y");
  assert.is(ev("vars['nested']['deep'].x"), "y");
  assert.is(ev("vars.list[1]"), "b");
  assert.is(ev("env.HOME"), "/home/u");
  assert.is(ev("cilo.env"), "feat-x");
  assert.is(ev("steps.build.outputs.url"), "http://x");
  assert.is(ev("steps.lint.outcome"), "failure");
  assert.is(ev("job.status"), "success");
});

test("missing keys, indexes out of range and members of scalars are null", () => {
  for (const src of [
    "vars.nope",
    "vars.nope.deeper.still",
    "env.PR_NUMBER",
    "vars.list[9]",
    "vars.list[-1]",
    "vars.list[0.5]",
    "vars.list['0']",
    "vars.name.length",
    "vars.count.x",
    "steps.unknown.outputs.x",
    "cilo.env.x",
  ]) {
    assert.is(ev(src), null, src);
  }
  assert.is(ev("vars.x", {}), null, "a context that was not supplied reads as null");
  assert.is(ev("cilo.env", {}), null);
});

test("nothing reaches JavaScript: prototype names read as null", () => {
  for (const src of [
    "vars.constructor",
    "vars['constructor']",
    "vars.__proto__",
    "vars['__proto__']",
    "vars.toString",
    "vars.hasOwnProperty",
    "vars.list.constructor",
    "vars.list.length",
    "vars.list['map']",
    "vars.name['toString']",
    "vars.constructor.constructor",
    "env.valueOf",
    "steps.build.__proto__",
  ]) {
    assert.is(ev(src), null, src);
  }
  const withFunction = { vars: { f: (() => 1) as unknown as Value } };
  assert.is(ev("vars.f", withFunction), null, "a function put into the context reads as null");
  assert.is(ev('fromJSON(\'{"__proto__": {"x": 1}}\').x'), null);
  assert.equal(ev('fromJSON(\'{"__proto__": {"x": 1}}\').__proto__'), { x: 1 }, "a JSON key named __proto__ is plain data");
  assert.is(({} as Record<string, unknown>)["x"], undefined, "Object.prototype is untouched");
});

test("&& and || short-circuit and return operand values", () => {
  assert.is(ev("env.PR_NUMBER || 'local'"), "local");
  assert.is(ev("vars.name || 'local'"), "api");
  assert.is(ev("vars.zero || vars.empty"), "");
  assert.is(ev("vars.name && vars.count"), 3);
  assert.is(ev("vars.zero && vars.name"), 0);
  assert.is(ev("vars.empty && fromJSON('not json')"), "", "the right side is not evaluated");
  assert.is(ev("vars.name || fromJSON('not json')"), "api");
  assert.throws(() => ev("vars.name && fromJSON('not json')"), /fromJSON\(\) got text that is not JSON/);
});

test("truthiness: false, 0, '', null are falsy; lists and mappings are truthy", () => {
  assert.is(ev("!false"), true);
  assert.is(ev("!0"), true);
  assert.is(ev("!''"), true);
  assert.is(ev("!null"), true);
  assert.is(ev("!'0'"), false, "a non-empty string is truthy");
  assert.is(ev("!vars.list"), false);
  assert.is(ev("!fromJSON('{}')"), false);
  assert.is(ev("!fromJSON('[]')"), false);
});

test("precedence when evaluated: !a == b and a || b && c", () => {
  assert.is(ev("!vars.zero == true"), true);
  assert.is(ev("!(vars.zero == true)"), true);
  assert.is(ev("!vars.name == false"), true);
  assert.is(ev("true || false && false"), true);
  assert.is(ev("(true || false) && false"), false);
});

test("equality is loose across types like GitHub: numbers against numeric strings", () => {
  assert.is(ev("vars.num == 42"), true);
  assert.is(ev("'42' == 42.0"), true);
  assert.is(ev("' 42 ' == 42"), true);
  assert.is(ev("'0x2A' == 42"), false);
  assert.is(ev("'abc' == 0"), false);
  assert.is(ev("'' == 0"), true);
  assert.is(ev("null == 0"), true);
  assert.is(ev("null == ''"), true);
  assert.is(ev("null == null"), true);
  assert.is(ev("true == 1"), true);
  assert.is(ev("true == '1'"), true);
  assert.is(ev("false == 'false'"), false);
  assert.is(ev("'a' == 'A'"), false, "strings compare case-sensitively");
  assert.is(ev("vars.list == vars.list"), true);
  assert.is(ev("fromJSON('[]') == fromJSON('[]')"), false, "lists compare by identity");
  assert.is(ev("vars.list == 'a'"), false);
  assert.is(ev("vars.name != 'web'"), true);
  assert.is(ev("steps.build.outcome == 'success'"), true);
});

test("ordering: strings by code point, everything else as numbers", () => {
  assert.is(ev("1 < 2"), true);
  assert.is(ev("2 <= 2"), true);
  assert.is(ev("'10' > 9"), true, "numeric string against number compares numerically");
  assert.is(ev("'10' > '9'"), false, "two strings compare as text");
  assert.is(ev("'b' >= 'a'"), true);
  assert.is(ev("'abc' < 1"), false, "NaN compares false");
  assert.is(ev("'abc' >= 1"), false);
  assert.is(ev("null < 1"), true);
  assert.is(ev("vars.list > 0"), false);
});

test("string functions", () => {
  assert.is(ev("contains('Hello world', 'o w')"), true);
  assert.is(ev("contains('Hello', 'h')"), false);
  assert.is(ev("contains(vars.list, 'b')"), true);
  assert.is(ev("contains(vars.list, '2')"), true, "list items compare loosely");
  assert.is(ev("contains(vars.list, 'c')"), false);
  assert.is(ev("contains(null, '')"), true);
  assert.is(ev("startsWith(cilo.base_url, 'http://')"), true);
  assert.is(ev("startsWith('abc', 'b')"), false);
  assert.is(ev("endsWith('file.ts', '.ts')"), true);
  assert.is(ev("endsWith(42, 2)"), true, "arguments are turned into text");
  assert.is(ev("lower('MiXed')"), "mixed");
  assert.is(ev("upper('MiXed')"), "MIXED");
  assert.is(ev("trim('  x \n')"), "x");
  assert.is(ev("replace('a-b-c', '-', '_')"), "a_b_c");
  assert.is(ev("replace('abc', '', 'x')"), "abc");
  assert.is(ev("replace('a.b', '.', '[.]')"), "a[.]b", "replace is literal, not a regular expression");
});

test("format, join, toJSON, fromJSON", () => {
  assert.is(ev("format('{0}-{1}', vars.name, vars.count)"), "api-3");
  assert.is(ev("format('{1}{0}{1}', 'a', 'b')"), "bab");
  assert.is(ev("format('{{0}} is {0}', null)"), "{0} is ");
  assert.is(ev("format('plain')"), "plain");
  assert.throws(() => ev("format('{2}', 'a')"), /uses \{2\} but only 1 value was given/);
  assert.throws(() => ev("format('{x}', 'a')"), /is not "\{N\}"/);
  assert.throws(() => ev("format('a}', 'a')"), /"}" without "\{"/);
  assert.is(ev("join(vars.list, ', ')"), "a, b, 2");
  assert.is(ev("join(vars.list)"), "a,b,2");
  assert.is(ev("join('single', '-')"), "single");
  assert.is(ev("toJSON(vars.nested)"), '{\n  "deep": {\n    "x": "y"\n  }\n}');
  assert.is(ev("toJSON('x')"), '"x"');
  assert.is(ev("toJSON(vars.nope)"), "null");
  assert.equal(ev("fromJSON('{\"a\": [1, true]}')"), { a: [1, true] });
  assert.is(ev('fromJSON(\'{"a": {"b": 7}}\').a.b'), 7);
  assert.is(ev("fromJSON(steps.build.outputs.n) == 5"), true);
  assert.is(ev("fromJSON('true')"), true);
});

test("runtime errors carry the offset of the call", () => {
  try {
    ev("vars.name && fromJSON('{oops')");
    assert.unreachable("no error");
  } catch (e) {
    assert.instance(e, ExpressionError);
    assert.is((e as ExpressionError).offset, 13);
    assert.match((e as Error).message, /at column 14/);
  }
});

const statuses: [string, ExpressionContext["status"]][] = [
  ["success", { failed: false, cancelled: false }],
  ["failure", { failed: true, cancelled: false }],
  ["cancelled", { failed: false, cancelled: true }],
  ["failed and cancelled", { failed: true, cancelled: true }],
];
const expected: Record<string, [boolean, boolean, boolean, boolean, string]> = {
  //                        success() failure() always() cancelled() job.status
  success: [true, false, true, false, "success"],
  failure: [false, true, true, false, "failure"],
  cancelled: [false, false, true, true, "cancelled"],
  "failed and cancelled": [false, false, true, true, "cancelled"],
};

test("status functions and job.status under each run status", () => {
  for (const [name, status] of statuses) {
    const c = status === undefined ? {} : { status };
    const [s, f, a, x, job] = expected[name]!;
    assert.is(ev("success()", c), s, `success() when ${name}`);
    assert.is(ev("failure()", c), f, `failure() when ${name}`);
    assert.is(ev("always()", c), a, `always() when ${name}`);
    assert.is(ev("cancelled()", c), x, `cancelled() when ${name}`);
    assert.is(ev("job.status", c), job, `job.status when ${name}`);
  }
  assert.is(ev("success()", {}), true, "no status supplied means nothing failed yet");
});

test.run();
