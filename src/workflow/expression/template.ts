import { ExpressionError } from "./errors.ts";
import { type Expression, parseExpression } from "./parser.ts";

/** A piece of a string value: literal text, or one `${{ … }}` (`start` at `$`, `end` after `}}`). */
export type TemplatePart = { kind: "text"; text: string } | { kind: "expr"; expression: Expression; start: number; end: number };

const OPEN = "${{";
const CLOSE = "}}";

/** Whether a string holds a `${{ }}` expression at all. */
export function isTemplate(text: string): boolean {
  return text.includes(OPEN);
}

/** Splits a string into text and parsed `${{ }}` parts; throws an {@link ExpressionError} with the offset. */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let at = 0;
  for (let open = text.indexOf(OPEN); open >= 0; open = text.indexOf(OPEN, at)) {
    if (open > at) parts.push({ kind: "text", text: text.slice(at, open) });
    const inner = open + OPEN.length;
    const close = findClose(text, inner);
    if (close < 0) throw new ExpressionError(`"${OPEN}" is not closed; expected "${CLOSE}"`, open, text);
    parts.push({ kind: "expr", expression: parseExpression(text, { start: inner, end: close }), start: open, end: close + CLOSE.length });
    at = close + CLOSE.length;
  }
  if (at < text.length) parts.push({ kind: "text", text: text.slice(at) });
  return parts;
}

/** The offset of the `}}` that ends an expression starting at `from`, skipping quoted strings. */
function findClose(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) return -1;
      i = end;
    } else if (text.startsWith(CLOSE, i)) {
      return i;
    }
  }
  return -1;
}

/**
 * Parses an `if:` condition, written bare (`failure() || vars.force`) or as one `${{ }}`. Text mixed
 * with `${{ }}` is refused: it would be a non-empty string, always true.
 */
export function parseCondition(text: string): Expression {
  if (!isTemplate(text)) return parseExpression(text);
  const parts = parseTemplate(text).filter((p) => p.kind === "expr" || p.text.trim() !== "");
  const only = parts[0];
  if (parts.length === 1 && only?.kind === "expr") return only.expression;
  throw new ExpressionError("the condition mixes text with ${{ }}; write it as one expression, such as ${{ a && b }} or a && b", text.indexOf(OPEN), text);
}
