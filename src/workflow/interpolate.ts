import { STATUS_FUNCTIONS, walk } from "./expression/ast.ts";
import type { ExpressionContext } from "./expression/context.ts";
import { evaluate } from "./expression/evaluator.ts";
import type { Expression } from "./expression/parser.ts";
import { isTemplate, parseCondition, parseTemplate } from "./expression/template.ts";
import { toText, truthy, type Value } from "./expression/values.ts";

/** Replaces every `${{ … }}` in `text` with the text of its value (null → "", lists/mappings → JSON). */
export function interpolate(text: string, ctx: ExpressionContext): string {
  if (!isTemplate(text)) return text;
  return parseTemplate(text)
    .map((part) => (part.kind === "text" ? part.text : toText(evaluate(part.expression, ctx))))
    .join("");
}

/** Like {@link interpolate}, but a string that is exactly one `${{ … }}` yields the value itself (number, list, …). */
export function interpolateValue(text: string, ctx: ExpressionContext): Value {
  if (!isTemplate(text)) return text;
  const parts = parseTemplate(text);
  const only = parts[0];
  if (parts.length === 1 && only?.kind === "expr") return evaluate(only.expression, ctx);
  return interpolate(text, ctx);
}

/**
 * Interpolates every string inside a step's action parameters (mappings and lists are copied,
 * other values kept). Strings stay strings. Not for `if:` (see {@link evaluateCondition}) nor for
 * the child steps of `parallel`, which are evaluated when they run.
 */
export function interpolateDeep<T>(value: T, ctx: ExpressionContext): T {
  const deep = (v: unknown): unknown => {
    if (typeof v === "string") return interpolate(v, ctx);
    if (Array.isArray(v)) return v.map(deep);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x)]));
    return v;
  };
  return deep(value) as T;
}

/**
 * Whether a step with this `if:` runs. No condition means `success()`; a condition that calls none
 * of `success()`, `failure()`, `always()`, `cancelled()` runs only while the run succeeds
 * (an implicit `success() &&`, as in GitHub Actions).
 */
export function evaluateCondition(condition: string | boolean | undefined, ctx: ExpressionContext): boolean {
  const ok = !ctx.status?.failed && !ctx.status?.cancelled;
  if (condition === undefined) return ok;
  if (typeof condition === "boolean") return ok && condition;
  const expression = parseCondition(condition);
  if (conditionNeedsImplicitSuccess(expression) && !ok) return false;
  return truthy(evaluate(expression, ctx));
}

/** True when the condition calls no status function, so it only applies while the run succeeds. */
export function conditionNeedsImplicitSuccess(expression: Expression): boolean {
  let found = false;
  walk(expression.root, (e) => {
    if (e.type === "call" && (STATUS_FUNCTIONS as readonly string[]).includes(e.name)) found = true;
  });
  return !found;
}

/**
 * The values of a workflow's `vars`, evaluated in the order they are declared (each sees the ones
 * before it as `vars.*`). `overrides` (from `--var` or an include's `with:`) are taken literally.
 */
export function resolveVars(
  declared: Record<string, string | number | boolean>,
  ctx: ExpressionContext,
  overrides: Record<string, Value> = {},
): Record<string, Value> {
  const vars: Record<string, Value> = {};
  for (const [name, raw] of Object.entries(declared)) {
    if (Object.hasOwn(overrides, name)) vars[name] = overrides[name] ?? null;
    else vars[name] = typeof raw === "string" ? interpolateValue(raw, { ...ctx, vars }) : raw;
  }
  return vars;
}
