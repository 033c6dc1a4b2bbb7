import type { Value } from "./values.ts";

/** Offsets are 0-based in the parsed text; `end` is exclusive. */
interface Span {
  start: number;
  end: number;
}

export type Expr =
  | (Span & { type: "literal"; value: Value })
  | (Span & { type: "context"; name: ContextName })
  | (Span & { type: "member"; object: Expr; property: Expr })
  | (Span & { type: "call"; name: FunctionName; args: Expr[] })
  | (Span & { type: "not"; operand: Expr })
  | (Span & { type: "binary"; op: "==" | "!=" | "<" | "<=" | ">" | ">="; left: Expr; right: Expr })
  | (Span & { type: "logical"; op: "&&" | "||"; left: Expr; right: Expr });

/** The names an expression may start from. */
export const CONTEXT_NAMES = ["vars", "env", "cilo", "steps", "job"] as const;
export type ContextName = (typeof CONTEXT_NAMES)[number];

/** Functions that read the run's status; a condition without one gets an implicit `success() &&`. */
export const STATUS_FUNCTIONS = ["success", "failure", "always", "cancelled"] as const;

/** Every function with its number of arguments (min, max). */
export const FUNCTIONS = {
  success: [0, 0],
  failure: [0, 0],
  always: [0, 0],
  cancelled: [0, 0],
  contains: [2, 2],
  startsWith: [2, 2],
  endsWith: [2, 2],
  format: [1, Number.POSITIVE_INFINITY],
  join: [1, 2],
  toJSON: [1, 1],
  fromJSON: [1, 1],
  lower: [1, 1],
  upper: [1, 1],
  trim: [1, 1],
  replace: [3, 3],
} as const satisfies Record<string, readonly [number, number]>;
export type FunctionName = keyof typeof FUNCTIONS;
export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

/** Calls `visit` on `expr` and every expression inside it, parents first. */
export function walk(expr: Expr, visit: (e: Expr) => void): void {
  visit(expr);
  switch (expr.type) {
    case "member":
      walk(expr.object, visit);
      walk(expr.property, visit);
      break;
    case "call":
      for (const a of expr.args) walk(a, visit);
      break;
    case "not":
      walk(expr.operand, visit);
      break;
    case "binary":
    case "logical":
      walk(expr.left, visit);
      walk(expr.right, visit);
      break;
  }
}

/** A chain of constant property names from a context, such as `steps.build.outputs.url`. */
export interface Reference {
  /** The names, the context first: `["steps", "build", "outputs", "url"]`. */
  path: string[];
  /** Where each name starts. */
  offsets: number[];
}

/** The longest constant property chains in `expr` (`a.b['c']` counts; `a[vars.x]` stops at `a`). */
export function references(expr: Expr): Reference[] {
  const found: Reference[] = [];
  const inside = new Set<Expr>();
  walk(expr, (e) => {
    if (inside.has(e)) return;
    const chain = chainOf(e)?.names;
    if (!chain) return;
    found.push({ path: chain.map((c) => c.name), offsets: chain.map((c) => c.start) });
    for (let x: Expr = e; x.type === "member"; x = x.object) inside.add(x.object);
  });
  return found;
}

function chainOf(e: Expr): { names: { name: string; start: number }[]; open: boolean } | undefined {
  if (e.type === "context") return { names: [{ name: e.name, start: e.start }], open: true };
  if (e.type !== "member") return undefined;
  const head = chainOf(e.object);
  if (!head?.open) return head;
  const p = e.property;
  if (p.type === "literal" && (typeof p.value === "string" || typeof p.value === "number")) {
    return { names: [...head.names, { name: String(p.value), start: p.start }], open: true };
  }
  return { names: head.names, open: false };
}
