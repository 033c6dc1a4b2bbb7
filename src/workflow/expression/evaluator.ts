import type { Expr, FunctionName } from "./ast.ts";
import type { Expression } from "./parser.ts";
import { type ExpressionContext, jobStatus } from "./context.ts";
import { ExpressionError } from "./errors.ts";
import { asValue, compare, looseEquals, member, toText, truthy, type Value } from "./values.ts";

/**
 * Evaluates a parsed expression against `ctx`. Pure: reads only JSON data from the context, never
 * runs code. `&&` and `||` short-circuit and return an operand (`env.X || 'local'`).
 */
export function evaluate(expression: Expression, ctx: ExpressionContext): Value {
  const run = (e: Expr): Value => {
    switch (e.type) {
      case "literal":
        return e.value;
      case "context":
        return contextValue(e.name, ctx);
      case "member":
        return member(run(e.object), run(e.property));
      case "not":
        return !truthy(run(e.operand));
      case "logical": {
        const left = run(e.left);
        if (e.op === "&&") return truthy(left) ? run(e.right) : left;
        return truthy(left) ? left : run(e.right);
      }
      case "binary": {
        const left = run(e.left);
        const right = run(e.right);
        if (e.op === "==") return looseEquals(left, right);
        if (e.op === "!=") return !looseEquals(left, right);
        const order = compare(left, right);
        if (e.op === "<") return order < 0;
        if (e.op === "<=") return order <= 0;
        if (e.op === ">") return order > 0;
        return order >= 0;
      }
      case "call":
        return call(e.name, e.args.map(run), ctx, (reason) => new ExpressionError(reason, e.start, expression.source));
    }
  };
  return run(expression.root);
}

function contextValue(name: string, ctx: ExpressionContext): Value {
  switch (name) {
    case "job":
      return { status: jobStatus(ctx.status) };
    case "vars":
      return asValue(ctx.vars ?? null);
    case "env":
      return asValue(ctx.env ?? null);
    case "cilo":
      return asValue(ctx.cilo ?? null);
    case "steps":
      return asValue(ctx.steps ?? null);
    default:
      return null;
  }
}

function call(name: FunctionName, args: Value[], ctx: ExpressionContext, fail: (reason: string) => ExpressionError): Value {
  const text = (i: number) => toText(args[i] ?? null);
  const status = ctx.status ?? { failed: false, cancelled: false };
  switch (name) {
    case "success":
      return !status.failed && !status.cancelled;
    case "failure":
      return status.failed && !status.cancelled;
    case "always":
      return true;
    case "cancelled":
      return status.cancelled;
    case "contains": {
      const haystack = args[0] ?? null;
      if (Array.isArray(haystack)) return haystack.some((item) => looseEquals(item, args[1] ?? null));
      return text(0).includes(text(1));
    }
    case "startsWith":
      return text(0).startsWith(text(1));
    case "endsWith":
      return text(0).endsWith(text(1));
    case "format":
      return format(text(0), args.slice(1), fail);
    case "join": {
      const list = args[0] ?? null;
      const separator = args.length > 1 ? text(1) : ",";
      return Array.isArray(list) ? list.map(toText).join(separator) : text(0);
    }
    case "toJSON":
      return JSON.stringify(args[0] ?? null, null, 2);
    case "fromJSON":
      try {
        return asValue(JSON.parse(text(0)));
      } catch {
        throw fail(`fromJSON() got text that is not JSON: ${JSON.stringify(text(0).slice(0, 60))}`);
      }
    case "lower":
      return text(0).toLowerCase();
    case "upper":
      return text(0).toUpperCase();
    case "trim":
      return text(0).trim();
    case "replace":
      return text(1) === "" ? text(0) : text(0).split(text(1)).join(text(2));
  }
}

/** `format('{0}-{1}', a, b)`; `{{` and `}}` stand for literal braces. */
function format(pattern: string, args: Value[], fail: (reason: string) => ExpressionError): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if ((c === "{" || c === "}") && pattern[i + 1] === c) {
      out += c;
      i++;
    } else if (c === "{") {
      const close = pattern.indexOf("}", i);
      const index = close < 0 ? "" : pattern.slice(i + 1, close);
      if (!/^\d+$/.test(index)) throw fail(`format() has a "{" that is not "{N}" or "{{" at position ${i + 1} of its pattern`);
      const n = Number(index);
      if (n >= args.length) throw fail(`format() pattern uses {${n}} but only ${args.length} value${args.length === 1 ? " was" : "s were"} given`);
      out += toText(args[n]!);
      i = close;
    } else if (c === "}") {
      throw fail(`format() has a "}" without "{" at position ${i + 1} of its pattern; write "}}" for a brace`);
    } else {
      out += c;
    }
  }
  return out;
}
