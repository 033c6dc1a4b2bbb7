import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Expr } from "../../src/workflow/expression/ast.ts";
import { references } from "../../src/workflow/expression/ast.ts";
import { ExpressionError } from "../../src/workflow/expression/errors.ts";
import { parseExpression } from "../../src/workflow/expression/parser.ts";
import { parseCondition, parseTemplate } from "../../src/workflow/expression/template.ts";

/** The documented nesting limit of expressions (MAX_DEPTH in the parser). */
const MAX_DEPTH = 64;

/** A compact rendering of the tree, to check how operators group. */
function shape(e: Expr): string {
  switch (e.type) {
    case "literal":
      return JSON.stringify(e.value);
    case "context":
      return e.name;
    case "member":
      return `${shape(e.object)}[${shape(e.property)}]`;
    case "call":
      return `${e.name}(${e.args.map(shape).join(", ")})`;
    case "not":
      return `(!${shape(e.operand)})`;
    default:
      return `(${shape(e.left)} ${e.op} ${shape(e.right)})`;
  }
}

const parse = (src: string) => shape(parseExpression(src).root);

function failure(src: string, parse: (s: string) => unknown = parseExpression): ExpressionError {
  let caught: unknown;
  try {
    parse(src);
  } catch (e) {
    caught = e;
  }
  assert.instance(caught, ExpressionError, `"${src}" did not fail with an ExpressionError: ${String(caught)}`);
  return caught as ExpressionError;
}

test("! binds tighter than ==, so !a == b is (!a) == b", () => {
  assert.is(parse("!vars.a == vars.b"), '((!vars["a"]) == vars["b"])');
  assert.is(parse("!!vars.a"), '(!(!vars["a"]))');
});

test("&& binds tighter than ||", () => {
  assert.is(parse("vars.a || vars.b && vars.c"), '(vars["a"] || (vars["b"] && vars["c"]))');
  assert.is(parse("vars.a && vars.b || vars.c"), '((vars["a"] && vars["b"]) || vars["c"])');
});

test("comparison binds tighter than equality, equality tighter than &&", () => {
  assert.is(parse("1 < 2 == true"), "((1 < 2) == true)");
  assert.is(parse("1 == 1 && 2 != 3"), "((1 == 1) && (2 != 3))");
  assert.is(parse("1 <= 2 >= 0"), "((1 <= 2) >= 0)");
});

test("parentheses override precedence", () => {
  assert.is(parse("(vars.a || vars.b) && vars.c"), '((vars["a"] || vars["b"]) && vars["c"])');
  assert.is(parse("!(vars.a == 1)"), '(!(vars["a"] == 1))');
});

test("property access, indexes and step ids with digits and dashes", () => {
  assert.is(parse("steps.build-api.outputs.url"), 'steps["build-api"]["outputs"]["url"]');
  assert.is(parse("steps.1st.outcome"), 'steps["1st"]["outcome"]');
  assert.is(parse("vars['a b'][0]"), 'vars["a b"][0]');
  assert.is(parse("env[vars.name]"), 'env[vars["name"]]');
});

test("literals: strings with quote escapes, numbers, booleans, null", () => {
  assert.is(parse("'it''s'"), JSON.stringify("it's"));
  assert.is(parse('"say ""hi"""'), JSON.stringify('say "hi"'));
  assert.is(parse("'a \\n b'"), JSON.stringify("a \\n b"));
  assert.is(parse("-1.5e2"), "-150");
  assert.is(parse("true && false || null"), "((true && false) || null)");
});

test("function calls with arguments", () => {
  assert.is(parse("format('{0}-{1}', vars.a, 'x')"), 'format("{0}-{1}", vars["a"], "x")');
  assert.is(parse("success() && contains(env.X, 'y')"), '(success() && contains(env["X"], "y"))');
});

test("syntax errors carry the offset of the offending token", () => {
  const cases: [string, number, RegExp][] = [
    ["vars.a ==", 9, /ends too early; expected a value/],
    ["(vars.a", 7, /expected "\)"/],
    ["vars.a vars.b", 7, /unexpected "vars"; expected an operator/],
    ["'open", 0, /string is not closed/],
    ["vars.a = 1", 7, /expected "==" to compare/],
    ["vars.a & vars.b", 7, /expected "&&"/],
    ["1 + 2", 2, /arithmetic is not supported/],
    ["vars.", 5, /expected a property name/],
    ["vars.a.b(1)", 8, /methods are not supported/],
    ["contains('a' 'b')", 13, /expected "," or "\)"/],
    ["12abc", 0, /is not a number/],
    ["", 0, /expression is empty/],
    ["   ", 3, /expression is empty/],
  ];
  for (const [src, offset, message] of cases) {
    const e = failure(src);
    assert.is(e.offset, offset, src);
    assert.match(e.reason, message, src);
    assert.is(e.code, "E_EXPRESSION");
    assert.is(e.exitCode, 2);
  }
});

test("nesting is limited to MAX_DEPTH levels: a parse error at the first level too deep, not a stack overflow", () => {
  const deep = (n: number) => `${"(".repeat(n)}true${")".repeat(n)}`;
  assert.is(parseExpression(deep(MAX_DEPTH - 1)).root.type, "literal");
  const cases: [string, number][] = [
    [deep(3000), MAX_DEPTH],
    [`${"!".repeat(20_000)}true`, MAX_DEPTH],
    [`contains(${"lower(".repeat(5000)}'a'${")".repeat(5000)}, 'a')`, 9 + 6 * (MAX_DEPTH - 1)],
    [`vars.a${"[0]".repeat(MAX_DEPTH)}`, 7],
  ];
  for (const [src, offset] of cases) {
    const e = failure(src);
    assert.is(e.offset, offset, src.slice(0, 40));
    assert.match(e.reason, /nests more than 64 levels deep/);
    assert.is(e.exitCode, 2);
  }
  // Long chains build deep trees without recursing in the parser: they are held to the limit too.
  for (const chain of [Array(20_000).fill("vars.a").join(" || "), `env${".a".repeat(20_000)}`, Array(5000).fill("vars.a").join(" == ")]) {
    assert.match(failure(chain).reason, /nests more than 64 levels deep/, chain.slice(0, 40));
  }
  assert.ok(
    parseExpression(
      Array(MAX_DEPTH / 2)
        .fill("vars.a")
        .join(" || "),
    ),
  );
  assert.ok(parseTemplate(`echo \${{ ${deep(MAX_DEPTH - 1)} }}`));
  assert.throws(
    () => parseTemplate(`echo \${{ ${deep(3000)} }}`),
    (e: unknown) => e instanceof ExpressionError && e.offset === 9 + MAX_DEPTH,
  );
});

test("unknown functions are refused at parse time with a suggestion", () => {
  const e = failure("success() && sucess()");
  assert.is(e.offset, 13);
  assert.match(e.reason, /unknown function "sucess" \(did you mean "success"\?\)/);
  assert.match(e.reason, /expected one of success, failure, always, cancelled, contains/);
  assert.match(failure("tojson(vars)").reason, /did you mean "toJSON"/);
  assert.match(failure("eval('1')").reason, /unknown function "eval"/);
});

test("unknown top-level names are refused with the list of contexts", () => {
  const e = failure("vars.a || foo.bar");
  assert.is(e.offset, 10);
  assert.is(e.reason, 'unknown name "foo"; expected one of vars, env, cilo, steps, job');
  assert.match(failure("var.x").reason, /did you mean "vars"/);
  assert.match(failure("secrets.token").reason, /unknown name "secrets"/);
  assert.match(failure("constructor").reason, /unknown name "constructor"/);
});

test("functions check their number of arguments", () => {
  assert.match(failure("success(1)").reason, /success\(\) takes 0 arguments, got 1/);
  assert.match(failure("contains('a')").reason, /contains\(\) takes 2 arguments, got 1/);
  assert.match(failure("join()").reason, /join\(\) takes 1 or 2 arguments, got 0/);
  assert.match(failure("format()").reason, /format\(\) takes at least 1 argument/);
  assert.match(failure("toJSON(1, 2)").reason, /toJSON\(\) takes 1 argument, got 2/);
});

test("templates: text and ${{ }} parts with offsets in the whole string", () => {
  const parts = parseTemplate("pr-${{ env.PR || 'local' }}-x");
  assert.is(parts.length, 3);
  assert.equal(parts[0], { kind: "text", text: "pr-" });
  const expr = parts[1]!;
  assert.is(expr.kind, "expr");
  if (expr.kind === "expr") {
    assert.is(expr.start, 3);
    assert.is(expr.end, 27);
    assert.is(expr.expression.root.start, 7);
  }
  assert.equal(parts[2], { kind: "text", text: "-x" });
  assert.equal(parseTemplate("a '}}' b").length, 1);
  assert.is(parseTemplate("${{ 'a}}b' }}").length, 1, "}} inside a string literal does not end the expression");
});

test("template errors are positioned in the whole string", () => {
  assert.is(failure("echo ${{ vars.a ==  }}", parseTemplate).offset, 20);
  const unclosed = failure("echo ${{ vars.a", parseTemplate);
  assert.is(unclosed.offset, 5);
  assert.match(unclosed.reason, /"\$\{\{" is not closed; expected "}}"/);
  assert.is(failure("x ${{ nope() }}", parseTemplate).offset, 6);
});

test("conditions may be bare or one ${{ }}, not text mixed with ${{ }}", () => {
  assert.is(shape(parseCondition("always()").root), "always()");
  assert.is(shape(parseCondition("${{ failure() }}").root), "failure()");
  assert.is(shape(parseCondition("  ${{ failure() }} ").root), "failure()");
  const mixed = failure("ok ${{ always() }}", parseCondition);
  assert.is(mixed.offset, 3);
  assert.match(mixed.reason, /mixes text with \$\{\{ \}\}/);
  assert.is(failure("${{ a }}", parseCondition).offset, 4);
});

test("references lists constant property chains with offsets", () => {
  const refs = references(parseExpression("steps.a.outputs.x == vars['b'] && env[vars.k].z").root);
  assert.equal(
    refs.map((r) => r.path.join(".")),
    ["steps.a.outputs.x", "vars.b", "env", "vars.k"],
  );
  assert.equal(refs[0]!.offsets, [0, 6, 8, 16]);
});

test.run();
