import { CONTEXT_NAMES, type ContextName, type Expr, FUNCTION_NAMES, FUNCTIONS, type FunctionName } from "./ast.ts";
import { ExpressionError } from "./errors.ts";
import { type Punct, type Token, tokenize } from "./lexer.ts";
import { didYouMean } from "../../core/suggest.ts";

const LITERALS: Record<string, null | boolean> = { true: true, false: false, null: null };
const EQUALITY: readonly Punct[] = ["==", "!="];
const ORDERING: readonly Punct[] = ["<", "<=", ">", ">="];
/**
 * How deeply an expression may nest: parentheses, `!`, `[ ]` and function arguments each add a
 * level. The parser, `walk` and the evaluator recurse once per level, so without a limit a file
 * with thousands of `(` or `!` overflows the stack. No real condition comes near it.
 */
export const MAX_DEPTH = 64;

/** A parsed expression; the offsets in `root` are positions in `source`. */
export interface Expression {
  /** The whole text the expression was found in (a template or condition). */
  source: string;
  root: Expr;
}

/**
 * Parses the expression in `source` (all of it, or from `range.start` to `range.end`, such as the
 * inside of one `${{ }}`). Checks syntax, context names and function names with their number of
 * arguments; throws an {@link ExpressionError} at the offending offset.
 * Precedence, loosest first: `||`, `&&`, `==` `!=`, `<` `<=` `>` `>=`, `!`, then `.x` `[x]` `f()`.
 */
export function parseExpression(source: string, range?: { start: number; end: number }): Expression {
  const root = new Parser(source, range?.start ?? 0, range?.end ?? source.length).parse();
  return { source, root };
}

class Parser {
  private readonly tokens: Token[];
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly source: string,
    start: number,
    end: number,
  ) {
    this.tokens = tokenize(source, start, end);
  }

  parse(): Expr {
    if (this.peek().kind === "end") throw this.fail("the expression is empty; expected a value", this.peek());
    const expr = this.or();
    const next = this.peek();
    if (next.kind !== "end") throw this.fail(`unexpected ${describe(next)}; expected an operator or the end of the expression`, next);
    this.checkDepth(expr);
    return expr;
  }

  /**
   * Chains (`a || b || …`, `a.b.c…`, `x[0][1]…`) are parsed in loops but make trees as deep as they
   * are long, which `walk` and the evaluator recurse through: the tree, too, is held to
   * {@link MAX_DEPTH}. Measured without recursion.
   */
  private checkDepth(root: Expr): void {
    const stack: [Expr, number][] = [[root, 1]];
    for (let item = stack.pop(); item; item = stack.pop()) {
      const [e, depth] = item;
      if (depth > MAX_DEPTH) throw this.tooDeep(e.start);
      for (const child of children(e)) stack.push([child, depth + 1]);
    }
  }

  private tooDeep(offset: number): ExpressionError {
    return new ExpressionError(
      `the expression nests more than ${MAX_DEPTH} levels deep (parentheses, "!", operators, ".", "[ ]", function calls); expected a simpler expression`,
      offset,
      this.source,
    );
  }

  private or(): Expr {
    let left = this.and();
    while (this.eat("||")) {
      const right = this.and();
      left = { type: "logical", op: "||", left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private and(): Expr {
    let left = this.equality();
    while (this.eat("&&")) {
      const right = this.equality();
      left = { type: "logical", op: "&&", left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private equality(): Expr {
    let left = this.ordering();
    for (let op = this.eatAny(EQUALITY); op; op = this.eatAny(EQUALITY)) {
      const right = this.ordering();
      left = { type: "binary", op: op as "==" | "!=", left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private ordering(): Expr {
    let left = this.unary();
    for (let op = this.eatAny(ORDERING); op; op = this.eatAny(ORDERING)) {
      const right = this.unary();
      left = { type: "binary", op: op as "<" | "<=" | ">" | ">=", left, right, start: left.start, end: right.end };
    }
    return left;
  }

  /** Every level of nesting passes through here (`!x`, and `(`, `[`, arguments via {@link or}). */
  private unary(): Expr {
    const bang = this.peek();
    if (++this.depth > MAX_DEPTH) throw this.tooDeep(bang.start);
    try {
      if (this.eat("!")) {
        const operand = this.unary();
        return { type: "not", operand, start: bang.start, end: operand.end };
      }
      return this.postfix();
    } finally {
      this.depth--;
    }
  }

  private postfix(): Expr {
    let expr = this.primary();
    for (;;) {
      if (this.eat(".")) {
        const name = this.next();
        if (name.kind !== "name") throw this.fail(`unexpected ${describe(name)} after "."; expected a property name`, name);
        const property: Expr = { type: "literal", value: name.value, start: name.start, end: name.end };
        expr = { type: "member", object: expr, property, start: expr.start, end: name.end };
      } else if (this.eat("[")) {
        const property = this.or();
        const close = this.expect("]", 'expected "]"');
        expr = { type: "member", object: expr, property, start: expr.start, end: close.end };
      } else if (this.peek().value === "(") {
        throw this.fail("only functions can be called, such as contains(a, b); methods are not supported", this.peek());
      } else {
        return expr;
      }
    }
  }

  private primary(): Expr {
    const t = this.next();
    const { start, end } = t;
    switch (t.kind) {
      case "number":
      case "string":
        return { type: "literal", value: t.value, start, end };
      case "name":
        if (Object.hasOwn(LITERALS, t.value)) return { type: "literal", value: LITERALS[t.value]!, start, end };
        if (this.peek().value === "(") return this.call(t);
        if (!(CONTEXT_NAMES as readonly string[]).includes(t.value)) {
          throw this.fail(`unknown name "${t.value}"${didYouMean(t.value, CONTEXT_NAMES)}; expected one of ${CONTEXT_NAMES.join(", ")}`, t);
        }
        return { type: "context", name: t.value as ContextName, start, end };
      case "punct":
        if (t.value === "(") {
          const inner = this.or();
          const close = this.expect(")", 'expected ")"');
          return { ...inner, start, end: close.end };
        }
        break;
      case "end":
        throw this.fail("the expression ends too early; expected a value", t);
    }
    throw this.fail(`unexpected ${describe(t)}; expected a value`, t);
  }

  private call(name: Token & { kind: "name" }): Expr {
    if (!Object.hasOwn(FUNCTIONS, name.value)) {
      throw this.fail(`unknown function "${name.value}"${didYouMean(name.value, FUNCTION_NAMES)}; expected one of ${FUNCTION_NAMES.join(", ")}`, name);
    }
    const fn = name.value as FunctionName;
    this.next();
    const args: Expr[] = [];
    if (!this.eat(")")) {
      do args.push(this.or());
      while (this.eat(","));
      this.expect(")", 'expected "," or ")"');
    }
    const [min, max] = FUNCTIONS[fn];
    if (args.length < min || args.length > max) {
      const wanted = min === max ? `${min}` : max === Number.POSITIVE_INFINITY ? `at least ${min}` : `${min} or ${max}`;
      throw this.fail(`${fn}() takes ${wanted} argument${wanted === "1" ? "" : "s"}, got ${args.length}`, name);
    }
    return { type: "call", name: fn, args, start: name.start, end: this.tokens[this.pos - 1]!.end };
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== "end") this.pos++;
    return t;
  }

  private eat(p: Punct): boolean {
    if (this.peek().kind !== "punct" || this.peek().value !== p) return false;
    this.pos++;
    return true;
  }

  private eatAny(ps: readonly Punct[]): Punct | undefined {
    const t = this.peek();
    if (t.kind !== "punct" || !ps.includes(t.value)) return undefined;
    this.pos++;
    return t.value;
  }

  private expect(p: Punct, expected: string): Token {
    const t = this.peek();
    if (!this.eat(p)) throw this.fail(`unexpected ${describe(t)}; ${expected}`, t);
    return t;
  }

  private fail(reason: string, at: Token): ExpressionError {
    return new ExpressionError(reason, at.start, this.source);
  }
}

function children(e: Expr): Expr[] {
  switch (e.type) {
    case "member":
      return [e.object, e.property];
    case "call":
      return e.args;
    case "not":
      return [e.operand];
    case "binary":
    case "logical":
      return [e.left, e.right];
    default:
      return [];
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case "end":
      return "end of the expression";
    case "string":
      return `string '${t.value}'`;
    case "number":
      return `number ${t.value}`;
    default:
      return `"${t.value}"`;
  }
}
