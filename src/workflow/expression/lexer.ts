import { ExpressionError } from "./errors.ts";

export type Token =
  | { kind: "number"; value: number; start: number; end: number }
  | { kind: "string"; value: string; start: number; end: number }
  | { kind: "name"; value: string; start: number; end: number }
  | { kind: "punct"; value: Punct; start: number; end: number }
  | { kind: "end"; value: ""; start: number; end: number };

export type Punct = "." | "[" | "]" | "(" | ")" | "," | "!" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "&&" | "||";

const PUNCTS: readonly Punct[] = ["==", "!=", "<=", ">=", "&&", "||", ".", "[", "]", "(", ")", ",", "!", "<", ">"];
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_-]*/y;
/** After a dot: step ids may start with a digit or contain `-` (`steps.1st-run.outcome`). */
const PROPERTY = /[A-Za-z0-9_-]+/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WORD_CHAR = /[A-Za-z0-9_]/;

const MISTAKES: Record<string, string> = {
  "=": 'a single "=" is not an operator; expected "==" to compare',
  "&": 'expected "&&"',
  "|": 'expected "||"',
  "+": "arithmetic is not supported; expected a comparison, && or ||",
  "-": "arithmetic is not supported; expected a comparison, && or ||",
  "*": "arithmetic is not supported; expected a comparison, && or ||",
  "/": "arithmetic is not supported; expected a comparison, && or ||",
  "}": 'unexpected "}"; an expression ends with "}}"',
};

/**
 * Splits the expression in `source` from `start` to `end` into tokens; the last token is always
 * `end`. Offsets are positions in the whole `source`.
 */
export function tokenize(source: string, start = 0, end = source.length): Token[] {
  const tokens: Token[] = [];
  const text = source.slice(0, end);
  let i = start;
  const fail = (reason: string, at: number) => new ExpressionError(reason, at, source);
  while (i < end) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const from = i;
    if (c === "'" || c === '"') {
      let value = "";
      i++;
      for (;;) {
        if (i >= end) throw fail(`the string is not closed; expected a closing ${c}`, from);
        const ch = text[i]!;
        if (ch === c) {
          if (text[i + 1] === c) {
            value += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += ch;
        i++;
      }
      tokens.push({ kind: "string", value, start: from, end: i });
      continue;
    }
    const last = tokens.at(-1);
    const afterDot = last?.kind === "punct" && last.value === ".";
    const word = match(afterDot ? PROPERTY : IDENTIFIER, text, i) ?? (afterDot ? undefined : match(NUMBER, text, i));
    if (word !== undefined) {
      i += word.length;
      if (!afterDot && /^[-.\d]/.test(word)) {
        if (i < end && WORD_CHAR.test(text[i]!)) throw fail(`"${word}${text[i]}" is not a number`, from);
        tokens.push({ kind: "number", value: Number(word), start: from, end: i });
      } else {
        tokens.push({ kind: "name", value: word, start: from, end: i });
      }
      continue;
    }
    const punct = PUNCTS.find((p) => text.startsWith(p, i));
    if (punct !== undefined) {
      i += punct.length;
      tokens.push({ kind: "punct", value: punct, start: from, end: i });
      continue;
    }
    throw fail(MISTAKES[c] ?? `unexpected character "${c}"`, from);
  }
  tokens.push({ kind: "end", value: "", start: end, end });
  return tokens;
}

function match(re: RegExp, source: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(source)?.[0];
}
