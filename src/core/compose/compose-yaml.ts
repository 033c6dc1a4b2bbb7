/*
 * The rendered compose file, written by hand rather than through the `yaml` library's document
 * model: the model is plain JSON data (mappings, lists, strings, numbers, booleans, null), so
 * block-style YAML with a conservative quoting rule is all it needs, and it costs a few times
 * `JSON.stringify` instead of ~20–100× (500 services: bench/yaml.ts). The `yaml` library still reads
 * it back in the unit tests (compose-yaml.test.ts), as YAML 1.1 and 1.2.
 */

/**
 * Strings left unquoted: they start with a letter, `_`, `/`, or one or two `-` and a letter, and
 * hold only letters, digits and `_./@+=,:()-` (no `#`, quotes, brackets or `*&!|>%`), with single
 * spaces between words, never `: ` or a trailing `:`. What YAML 1.1
 * (PyYAML, read by docker-compose 1.29) reads as a number, date or time always starts with a
 * digit, sign or dot, so only its booleans and null remain: `YAML11_WORDS`.
 */
const INNER = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./@+=,:()-") INNER[c.charCodeAt(0)] = 1;
const FIRST = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_/") FIRST[c.charCodeAt(0)] = 1;
const SPACE = 32;
const COLON = 58;
const DASH = 45;
const UNDERSCORE = 95;
const SLASH = 47;

/** The rule above as a loop over char codes (a regular expression costs twice as much here). */
function isPlain(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  let i = 0;
  // "-x" and "--x" (command-line flags) stay plain; "-1", "- x" and "-.inf" do not.
  while (i < 2 && i < n && s.charCodeAt(i) === DASH) i++;
  const c0 = i < n ? s.charCodeAt(i) : 0;
  if (c0 > 127 || FIRST[c0] !== 1 || (i > 0 && (c0 === UNDERSCORE || c0 === SLASH))) return false;
  for (i++; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === SPACE) {
      // one space between words, never two, never at the end
      if (i === n - 1 || s.charCodeAt(i + 1) === SPACE) return false;
    } else if (c === COLON) {
      if (i === n - 1 || s.charCodeAt(i + 1) === SPACE) return false;
    } else if (c > 127 || INNER[c] !== 1) {
      return false;
    }
  }
  return true;
}
const YAML11_WORDS = new Set(
  ["y", "yes", "n", "no", "true", "false", "on", "off", "null"].flatMap((w) => [w, w[0]!.toUpperCase() + w.slice(1), w.toUpperCase()]),
);
/** Characters YAML does not allow in a document, even inside double quotes, and line breaks it would fold. */
const UNPRINTABLE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

function scalarText(s: string): string {
  if (isPlain(s) && !YAML11_WORDS.has(s)) return s;
  return JSON.stringify(s).replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function numberText(n: number): string {
  if (Number.isNaN(n)) return ".nan";
  if (!Number.isFinite(n)) return n > 0 ? ".inf" : "-.inf";
  const s = String(n);
  // YAML 1.1 reads an exponent only after a dot: 1e+21 would be a string to compose 1.29.
  const e = s.indexOf("e");
  return e > 0 && !s.slice(0, e).includes(".") ? `${s.slice(0, e)}.0${s.slice(e)}` : s;
}

/**
 * `value` as the rest of a line after `key:` or `-`: inline, or a block below at `indent`.
 * Strings are built by concatenation: V8 joins them as ropes, several times faster here than
 * pushing parts into an array and joining it.
 */
function valueText(value: unknown, indent: string): string {
  if (value === null || typeof value !== "object") return ` ${inlineText(value)}\n`;
  const block = blockText(value, indent, indent);
  return block === "" ? emptyText(value) : `\n${block}`;
}

function emptyText(value: object): string {
  return Array.isArray(value) ? " []\n" : " {}\n";
}

function inlineText(value: unknown): string {
  switch (typeof value) {
    case "string":
      return scalarText(value);
    case "number":
      return numberText(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return String(value);
    default:
      if (value === null || value === undefined) return "null";
      throw new TypeError(`a compose model holds only JSON data, not a ${typeof value}`);
  }
}

/**
 * A mapping or list as block lines at `indent`, "" when it has no entries. `first` replaces the
 * indentation of the first line: a mapping or list that is an item of a list starts beside its dash.
 */
function blockText(value: object, indent: string, first: string): string {
  let out = "";
  let lead = first;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    for (const item of value) {
      out += `${lead}-`;
      lead = indent;
      if (item !== null && typeof item === "object") {
        const block = blockText(item, inner, " ");
        out += block === "" ? emptyText(item) : block;
      } else {
        out += ` ${inlineText(item)}\n`;
      }
    }
    return out;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  // Most mappings come sorted already (transform and resolve sort them); sorting then is wasted.
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  }
  for (const key of keys) {
    const v = obj[key];
    if (v === undefined) continue;
    out += `${lead}${scalarText(key)}:${valueText(v, inner)}`;
    lead = indent;
  }
  return out;
}

/**
 * Renders a compose model as YAML that both compose 1.29 (YAML 1.1) and compose v2 read back as
 * the same values: mapping keys sorted by code unit at every depth, list order kept, strings that
 * YAML 1.1 would read as booleans, numbers or dates quoted, no anchors or aliases, no folding.
 * The same model always gives byte-identical text.
 */
export function stringifyComposeYaml(model: unknown): string {
  if (model === null || typeof model !== "object") return `${inlineText(model)}\n`;
  const block = blockText(model, "", "");
  return block === "" ? emptyText(model).slice(1) : block;
}
