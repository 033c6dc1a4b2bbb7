/*
 * The rendered compose file, written by hand rather than through the `yaml` library's document
 * model: the model is plain JSON data (mappings, lists, strings, numbers, booleans, null), so
 * block-style YAML with a conservative quoting rule is all it needs, and it costs about twice
 * `JSON.stringify` instead of ~20–100× (500 services: bench/yaml.ts). The `yaml` library still reads
 * it back in the unit tests (compose-yaml.test.ts), as YAML 1.1 and 1.2.
 *
 * The text is written as bytes into one buffer and turned into a string once at the end. Joining
 * strings instead (`+=` or an array's `join`) looks as fast until the result is used: V8 keeps a
 * concatenation as a tree of pieces and flattens it on first read, which cost ~2× the walk itself
 * at 500 services. Writing bytes also lets the quoting decision and the copy share one loop.
 */

/**
 * Strings left unquoted: they start with a letter, `_`, `/`, or one or two `-` and a letter, and
 * hold only letters, digits and `_./@+=,:()-` (no `#`, quotes, brackets or `*&!|>%`), with single
 * spaces between words, never `: ` or a trailing `:`. What YAML 1.1
 * (PyYAML, read by docker-compose 1.29) reads as a number, date or time always starts with a
 * digit, sign or dot, so only its booleans and null remain: `YAML11_WORDS`.
 */
const NEWLINE = 10;
const SPACE = 32;
const QUOTE = 34;
const DASH = 45;
const SLASH = 47;
const COLON = 58;
const BACKSLASH = 92;
const UNDERSCORE = 95;
/** After the first character: 1 for a character that may be anywhere, 2 for a space or `:` (not last, not before a space). */
const INNER = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./@+=,()-") INNER[c.charCodeAt(0)] = 1;
INNER[SPACE] = 2;
INNER[COLON] = 2;
const FIRST = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_/") FIRST[c.charCodeAt(0)] = 1;

const YAML11_WORDS = new Set(
  ["y", "yes", "n", "no", "true", "false", "on", "off", "null"].flatMap((w) => [w, w[0]!.toUpperCase() + w.slice(1), w.toUpperCase()]),
);
/** The first characters of `YAML11_WORDS`: other strings skip the set lookup. */
const WORD_START = new Uint8Array(128);
for (const w of YAML11_WORDS) WORD_START[w.charCodeAt(0)] = 1;
/** The longest of `YAML11_WORDS`: longer strings skip the set lookup. */
const YAML11_LONGEST = 5;
/** Characters YAML does not allow in a document, even inside double quotes, and line breaks it would fold. */
const UNPRINTABLE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

/*
 * The output of the call under way: `buf[0, pos)`, and whether any of it is not ASCII (then it is
 * read back as UTF-8, otherwise as Latin-1, which is a plain copy). One call runs at a time: the
 * writer is synchronous and calls no code of the model's. The buffer is kept for the next call
 * (allocating and growing it again each time cost ~10 %), unless it grew past `KEEP_BYTES`.
 */
const NO_BYTES = Buffer.alloc(0);
let buf: Buffer = NO_BYTES;
let pos = 0;
let wide = false;
const KEEP_BYTES = 1 << 22;

/** Room for `n` more bytes. */
function ensure(n: number): void {
  if (pos + n <= buf.length) return;
  let size = Math.max(buf.length * 4, 1 << 14);
  while (size < pos + n) size *= 2;
  const next = Buffer.allocUnsafeSlow(size);
  buf.copy(next, 0, 0, pos);
  buf = next;
}

/** Text that is ASCII (numbers, `true`, `[]`): copied byte by byte. */
function ascii(s: string): void {
  const n = s.length;
  ensure(n);
  const b = buf;
  let p = pos;
  for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
  pos = p;
}

function spaces(n: number): void {
  ensure(n);
  const b = buf;
  let p = pos;
  for (let i = 0; i < n; i++) b[p++] = SPACE;
  pos = p;
}

function scalar(s: string): void {
  if (!plain(s) && !quotedAsIs(s)) escaped(s);
}

/**
 * Writes `s` unquoted if the rule above allows it, else writes nothing and says false. The check
 * and the copy are one loop: the bytes go in as they pass, and `pos` moves past them at the end.
 */
function plain(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  ensure(n);
  let i = 0;
  // "-x" and "--x" (command-line flags) stay plain; "-1", "- x" and "-.inf" do not.
  while (i < 2 && i < n && s.charCodeAt(i) === DASH) i++;
  const c0 = i < n ? s.charCodeAt(i) : 0;
  if (c0 > 127 || FIRST[c0] !== 1 || (i > 0 && (c0 === UNDERSCORE || c0 === SLASH))) return false;
  const b = buf;
  let p = pos;
  for (let k = 0; k <= i; k++) b[p++] = s.charCodeAt(k);
  for (i++; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 127) return false;
    const kind = INNER[c];
    // a space or colon: one space between words, never two, never at the end, never `: `
    if (kind !== 1 && (kind === 0 || i === n - 1 || s.charCodeAt(i + 1) === SPACE)) return false;
    b[p++] = c;
  }
  if (n <= YAML11_LONGEST && WORD_START[c0] === 1 && YAML11_WORDS.has(s)) return false;
  pos = p;
  return true;
}

/**
 * Writes `s` double-quoted if it is printable ASCII without `"` or `\` (most quoted strings:
 * "8080", "true"), which is what `JSON.stringify` writes for it; else writes nothing and says false.
 */
function quotedAsIs(s: string): boolean {
  const n = s.length;
  ensure(n + 2);
  const b = buf;
  let p = pos;
  b[p++] = QUOTE;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < SPACE || c > 126 || c === QUOTE || c === BACKSLASH) return false;
    b[p++] = c;
  }
  b[p++] = QUOTE;
  pos = p;
  return true;
}

/** `s` double-quoted as `JSON.stringify` writes it, with the characters of `UNPRINTABLE` escaped too. */
function escaped(s: string): void {
  const text = JSON.stringify(s).replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  // UTF-8 takes at most 3 bytes per UTF-16 code unit; more bytes than units means non-ASCII.
  ensure(text.length * 3);
  const written = buf.write(text, pos, "utf8");
  if (written !== text.length) wide = true;
  pos += written;
}

function numberText(n: number): string {
  if (Number.isNaN(n)) return ".nan";
  if (!Number.isFinite(n)) return n > 0 ? ".inf" : "-.inf";
  const s = String(n);
  // YAML 1.1 reads an exponent only after a dot: 1e+21 would be a string to compose 1.29.
  const e = s.indexOf("e");
  return e > 0 && !s.slice(0, e).includes(".") ? `${s.slice(0, e)}.0${s.slice(e)}` : s;
}

/** A scalar (or null) as the rest of a line. */
function inline(value: unknown): void {
  if (typeof value === "string") scalar(value);
  else if (typeof value === "number") ascii(numberText(value));
  else if (typeof value === "boolean") ascii(value ? "true" : "false");
  else if (typeof value === "bigint") ascii(String(value));
  else if (value === null || value === undefined) ascii("null");
  else throw new TypeError(`a compose model holds only JSON data, not a ${typeof value}`);
}

/** ` []` or ` {}` and the line's end, for a list or mapping with no entries. */
function empty(value: object): void {
  ascii(Array.isArray(value) ? " []\n" : " {}\n");
}

/**
 * Sorts keys by code unit, in place. Most mappings have a few keys, often in no order (a user's
 * compose file, labels added after the user's): an insertion sort there costs a quarter of
 * `Array.prototype.sort`'s set-up. Long ones (the services of a big project) go to `sort`.
 */
function sortKeys(keys: string[]): void {
  const n = keys.length;
  if (n > 16) {
    for (let i = 1; i < n; i++) {
      if (keys[i - 1]! > keys[i]!) {
        keys.sort();
        return;
      }
    }
    return;
  }
  for (let i = 1; i < n; i++) {
    const key = keys[i]!;
    let j = i - 1;
    if (!(keys[j]! > key)) continue;
    do {
      keys[j + 1] = keys[j]!;
      j--;
    } while (j >= 0 && keys[j]! > key);
    keys[j + 1] = key;
  }
}

/**
 * A mapping or list as block lines indented by `indent` spaces; false (and nothing written) when
 * it has no entries. `first` replaces the indentation of the first line: a mapping or list that is
 * an item of a list starts beside its dash.
 */
function block(value: object, indent: number, first: number): boolean {
  let lead = first;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      spaces(lead);
      ensure(2);
      buf[pos++] = DASH;
      if (item !== null && typeof item === "object") {
        if (!block(item, indent + 2, 1)) empty(item);
      } else {
        buf[pos++] = SPACE;
        inline(item);
        ensure(1);
        buf[pos++] = NEWLINE;
      }
      lead = indent;
    }
    return value.length > 0;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  sortKeys(keys);
  let any = false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const v = obj[key];
    if (v === undefined) continue;
    any = true;
    spaces(lead);
    scalar(key);
    ensure(2);
    buf[pos++] = COLON;
    if (v !== null && typeof v === "object") {
      buf[pos++] = NEWLINE;
      if (!block(v, indent + 2, indent + 2)) {
        pos--; // `key: {}` on one line instead
        empty(v);
      }
    } else {
      buf[pos++] = SPACE;
      inline(v);
      ensure(1);
      buf[pos++] = NEWLINE;
    }
    lead = indent;
  }
  return any;
}

/**
 * Renders a compose model as YAML that both compose 1.29 (YAML 1.1) and compose v2 read back as
 * the same values: mapping keys sorted by code unit at every depth, list order kept, strings that
 * YAML 1.1 would read as booleans, numbers or dates quoted, no anchors or aliases, no folding.
 * The same model always gives byte-identical text.
 */
export function stringifyComposeYaml(model: unknown): string {
  pos = 0;
  wide = false;
  try {
    if (model === null || typeof model !== "object") {
      inline(model);
      ascii("\n");
    } else if (!block(model, 0, 0)) {
      ascii(Array.isArray(model) ? "[]\n" : "{}\n");
    }
    return buf.toString(wide ? "utf8" : "latin1", 0, pos);
  } finally {
    if (buf.length > KEEP_BYTES) buf = NO_BYTES;
  }
}
