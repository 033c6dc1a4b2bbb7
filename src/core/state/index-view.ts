import { createHash, type Hash } from "node:crypto";
import { ENV_KEY, entryProblems, isCidrText, STATUSES, type EnvIndexEntry } from "./index-entry.ts";
import type { SubnetOwner } from "./validate.ts";

/*
 * `state.json` read without parsing every entry (docs/state.md, "Sealed index"). The store writes
 * the index one entry a line (layout.ts) and seals it: the first line starts with the SHA-1 of the
 * rest of the text (`{"index_sha1":"<hex>",…`). A text whose seal holds was written whole by cilo
 * from entries it had checked, so its lines are what the renderer makes: one entry each, each
 * starting with its own key, keys unique. A command then finds the entries it needs by their
 * line (`"<key>":{` after a line break), parses and checks those alone, and takes what a pass over
 * every env needs (subnets, statuses, shared networks) from each line's fixed prefix without
 * parsing it as JSON. A text whose seal does not hold (a hand edit, an older cilo, a torn copy) is
 * parsed and checked whole, as before.
 */

const SEAL_HEAD = '{"index_sha1":"';
const SEAL_LENGTH = SEAL_HEAD.length + 40 + 2; // then `",`

/** The seal of an index text: SHA-1 of its first line without the seal, a line break, and the rest. */
function sealOf(head: string, body: string): string {
  return createHash("sha1").update(head).update("\n").update(body).digest("hex");
}

/**
 * Where the hash of a sealed text stood at some of its line starts (`at`, offsets in the text,
 * about every `MARK_EVERY` characters): the state after its first line without the seal, a line
 * break, and the text from its entry lines up to `at`. A text spliced from it has the same head
 * and the same text up to its first change, so its seal is hashed on from the last mark before
 * that change, not from the start (a create or destroy changes one line: at 10,000 envs the seal
 * was three hashes of 1.2 MB a command, it is one). Kept for the last two texts hashed.
 */
interface Marks {
  readonly text: string;
  readonly at: readonly number[];
  readonly states: readonly Hash[];
}
const MARK_EVERY = 1 << 16;

/**
 * Where the lines of the keys a write changed are in the text it wrote (-1: removed), for the
 * view over that text: the command then looks them up without a search of the whole text.
 */
const recentLineHints: { text: string; lines: ReadonlyMap<string, number> }[] = [];

export function lineHints(text: string, lines: ReadonlyMap<string, number>): void {
  recentLineHints.unshift({ text, lines });
  if (recentLineHints.length > 2) recentLineHints.length = 2;
}
const recentMarks: Marks[] = [];

function rememberMarks(m: Marks): void {
  recentMarks.unshift(m);
  if (recentMarks.length > 2) recentMarks.length = 2;
}

/** The seal of `text` (entry lines from `start`, first line `head` unsealed), marking it on the way. */
function sealMarked(head: string, text: string, start: number): { seal: string; marks: Marks } {
  const hash = createHash("sha1").update(head).update("\n");
  const at: number[] = [];
  const states: Hash[] = [];
  for (let pos = start; ; ) {
    const next = pos + MARK_EVERY < text.length ? text.indexOf("\n", pos + MARK_EVERY) + 1 : 0;
    if (next <= 0 || next >= text.length) {
      hash.update(text.slice(pos));
      break;
    }
    hash.update(text.slice(pos, next)); // whole lines: a cut never falls inside a character
    pos = next;
    at.push(pos);
    states.push(hash.copy());
  }
  return { seal: hash.digest("hex"), marks: { text, at, states } };
}

/** A whole index text from its first line (`{…,"index":{`, no seal) and the rest (entry lines and the closing `}}`). */
export function sealText(head: string, body: string): string {
  return `${SEAL_HEAD}${sealOf(head, body)}",${head.slice(1)}\n${body}`;
}

/**
 * `sealText(head, <parts joined by ",\n", then "\n}}\n">)` made in one piece: the text is built by
 * one join (no body string made first and copied again behind the seal: at 10,000 envs each is
 * 1.2 MB). The parts are runs of whole entry lines. `from`: the text they were spliced from (with
 * the same `head`), the same as the new one for its first `same` characters of entry lines: the
 * hash goes on from that text's last mark before them.
 */
export function sealParts(head: string, parts: readonly string[], from?: { text: string; start: number; same: number }): string {
  if (parts.length === 0) return sealText(head, "}}\n");
  const marks = from === undefined ? undefined : recentMarks.find((m) => m.text === from.text);
  let i = -1;
  if (marks && from) while (i + 1 < marks.at.length && marks.at[i + 1]! - from.start <= from.same) i++;
  const hash = i >= 0 ? marks!.states[i]!.copy() : createHash("sha1").update(head).update("\n");
  let skip = i >= 0 ? marks!.at[i]! - from!.start : 0; // characters of the entry lines hashed already
  const feed = (piece: string) => {
    if (skip >= piece.length) skip -= piece.length;
    else {
      hash.update(skip === 0 ? piece : piece.slice(skip));
      skip = 0;
    }
  };
  for (let j = 0; j < parts.length; j++) {
    if (j > 0) feed(",\n");
    feed(parts[j]!);
  }
  feed("\n}}\n");
  const out = parts.slice();
  out[0] = `${SEAL_HEAD}${hash.digest("hex")}",${head.slice(1)}\n${out[0]}`;
  out[out.length - 1] = `${out[out.length - 1]}\n}}\n`;
  const text = out.join(",\n");
  // The marks before the first change hold for the new text too (same head, same lines before it).
  if (i >= 0) rememberMarks({ text, at: marks!.at.slice(0, i + 1), states: marks!.states.slice(0, i + 1) });
  return text;
}

/** The first line of `text` without its seal, when it has one (else the line as it is). */
export function unsealedHead(text: string): string {
  const nl = text.indexOf("\n");
  const head = nl < 0 ? text : text.slice(0, nl);
  return head.startsWith(SEAL_HEAD) && head.charCodeAt(SEAL_LENGTH - 1) === 44 ? `{${head.slice(SEAL_LENGTH)}` : head;
}

/**
 * `text` as a sealed index: its home line (unsealed; ends with `"index":{`) and where the entry
 * lines start. Undefined when the text has no seal or the seal does not hold: parse it whole.
 * `sealedHere`: this process sealed the text (its write), so the seal is not computed again.
 */
export function openSealed(text: string, sealedHere = false): { head: string; start: number } | undefined {
  if (!text.startsWith(SEAL_HEAD)) return undefined;
  const nl = text.indexOf("\n");
  if (nl < SEAL_LENGTH || text.charCodeAt(SEAL_LENGTH - 2) !== 34 || text.charCodeAt(SEAL_LENGTH - 1) !== 44) return undefined;
  const head = `{${text.slice(SEAL_LENGTH, nl)}`;
  if (!head.endsWith('"index":{') || !text.endsWith("\n}}\n")) return undefined;
  if (!sealedHere) {
    const { seal, marks } = sealMarked(head, text, nl + 1);
    if (seal !== text.slice(SEAL_HEAD.length, SEAL_HEAD.length + 40)) return undefined;
    rememberMarks(marks);
  }
  return { head, start: nl + 1 };
}

/** What a pass over every env reads of an entry: the rest is read from the entry itself when needed. */
export type IndexLite = Pick<EnvIndexEntry, "status" | "subnet" | "extra_subnets" | "host" | "shared_networks" | "dns_suffix">;

// The fields `scanFields` finds in one pass (keysWith's needles for them).
const FIELDS: readonly string[] = [',"host":"', ',"extra_subnets":{', ',"dns_suffix":"'];
const FIELDS_RE = /,"host":"|,"extra_subnets":\{|,"dns_suffix":"/g;

// Every line's fixed start (indexEntryOf's order) with its own subnet's numbers: `ownSubnetsWithin`.
const SUBNET_NUMBERS = /\n"[a-z0-9/-]+":\{"status":"[a-z]+","subnet":"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})"/g;

/** 2 ** (32 - prefix), by prefix: a subnet's size without a call to `Math.pow` per env. */
const BLOCK_SIZES = Array.from({ length: 33 }, (_, p) => 2 ** (32 - p));

// The fixed start of an entry line as the renderer writes the common entry (no extra subnets,
// host, shared networks or DNS suffix: `services` follows the subnet). Any other line is parsed.
const COMMON_LINE = /"([a-z0-9/-]{3,127})":\{"status":"([a-z]{1,16})","subnet":"([0-9./]{9,18})","services":/y;

/**
 * The entries of a sealed index text, read as asked for. Each entry given out is checked
 * (`entryProblems`: its shape, subnets, host) and `fail` is called with the first problem; what a
 * pass reads of the common lines (key, status, subnet) is checked the same way. Checks that need
 * every entry at once (no subnet shared) are the writer's (`changeProblems`) and `all`'s.
 */
export class IndexView {
  private readonly parsed = new Map<string, EnvIndexEntry>();
  private lite: { keys: string[]; lites: IndexLite[] } | undefined;
  private whole: Record<string, EnvIndexEntry> | undefined;
  private subnets: string[] | undefined;
  private at: Map<string, number> | undefined;
  private lookups = 0;
  /** Lines found (or not: -1) by a search of the text, by key. */
  private readonly found = new Map<string, number>();
  /** `keysWith` and `keysNamed` answers, by needle: the text never changes. */
  private readonly answers = new Map<string, string[]>();

  constructor(
    readonly text: string,
    /** Where the first entry line starts. */
    readonly start: number,
    private readonly hosts: unknown,
    private readonly fail: (why: string) => never,
    /** Checks a whole index (every entry and across entries), calling `fail`. */
    private readonly checkWhole: (index: Record<string, EnvIndexEntry>) => void,
  ) {
    const hints = recentLineHints.find((h) => h.text === text);
    if (hints) for (const [key, at] of hints.lines) if (at < 0 || text.startsWith(`"${key}":{`, at)) this.found.set(key, at);
  }

  /**
   * Where the line of `key` starts, or -1: a search of the text for the first few keys asked
   * for, then (a pass that reads many entries one by one, such as `cilo list --json`) a map of
   * every key's line made by one scan.
   */
  private lineOf(key: string): number {
    if (!ENV_KEY.test(key)) return -1;
    const seen = this.found.get(key);
    if (seen !== undefined) return seen;
    if (this.at === undefined && ++this.lookups > 8) this.at = this.lineStarts();
    if (this.at !== undefined) return this.at.get(key) ?? -1;
    // The text never changes: a key looked up again (a command asks for its env's line several
    // times, and a new env's key is looked for in vain) is not searched for again.
    const i = this.text.indexOf(`\n"${key}":{`, this.start - 1);
    this.found.set(key, i < 0 ? -1 : i + 1);
    return i < 0 ? -1 : i + 1;
  }

  private lineStarts(): Map<string, number> {
    const at = new Map<string, number>();
    const { text } = this;
    if (text.length > this.start + 3) {
      for (let s = this.start; ; ) {
        at.set(text.slice(s + 1, text.indexOf('":', s + 1)), s);
        const e = text.indexOf("\n", s);
        if (text.charCodeAt(e - 1) !== 44) break;
        s = e + 1;
      }
    }
    return at;
  }

  /** The line starting at `s`, without its separator. */
  private lineEnd(s: number): number {
    const e = this.text.indexOf("\n", s);
    return this.text.charCodeAt(e - 1) === 44 ? e - 1 : e;
  }

  has(key: string): boolean {
    return this.parsed.has(key) || this.lineOf(key) >= 0;
  }

  get(key: string): EnvIndexEntry | undefined {
    const got = this.parsed.get(key);
    if (got) return got;
    const s = this.lineOf(key);
    return s < 0 ? undefined : this.entryAt(key, s);
  }

  /** The entry of `key` on the line starting at `s`, parsed and checked. */
  private entryAt(key: string, s: number): EnvIndexEntry {
    let e: unknown;
    try {
      e = JSON.parse(this.text.slice(s + key.length + 3, this.lineEnd(s)));
    } catch {
      this.fail(`the index entry of ${key} is not valid JSON`);
    }
    const problems: string[] = [];
    entryProblems(key, e, this.hosts, problems, []);
    if (problems.length > 0) this.fail(problems[0]!);
    this.parsed.set(key, e as EnvIndexEntry);
    return e as EnvIndexEntry;
  }

  /** Every key and what a pass reads of its entry, in the text's order: one scan, made once. */
  scan(): { keys: string[]; lites: IndexLite[] } {
    if (this.lite) return this.lite;
    const keys: string[] = [];
    const lites: IndexLite[] = [];
    const { text } = this;
    if (text.length > this.start + 3) {
      for (let s = this.start; ; ) {
        COMMON_LINE.lastIndex = s;
        const m = COMMON_LINE.exec(text);
        const e = text.indexOf("\n", s);
        if (m && ENV_KEY.test(m[1]!) && STATUSES.has(m[2]) && isCidrText(m[3])) {
          keys.push(m[1]!);
          lites.push({ status: m[2] as EnvIndexEntry["status"], subnet: m[3]! });
        } else {
          const key = text.slice(s + 1, text.indexOf('":', s + 1));
          if (text.charCodeAt(s) !== 34 || !ENV_KEY.test(key)) this.fail(`the index line at offset ${s} does not start with an env key`);
          keys.push(key);
          lites.push(this.parsed.get(key) ?? this.entryAt(key, s));
        }
        if (text.charCodeAt(e - 1) !== 44) break;
        s = e + 1;
      }
    }
    this.lite = { keys, lites };
    return this.lite;
  }

  keys(): string[] {
    return this.scan().keys;
  }

  /**
   * The keys of the entries whose line names `key` other than as its own key (in `shared_networks`:
   * no other field holds an env key), found by the text: no pass over the other lines.
   */
  keysMentioning(key: string): string[] {
    const out: string[] = [];
    if (!ENV_KEY.test(key)) return out;
    const known = this.answers.get(`mentioning ${key}`);
    if (known) return known.slice();
    const { text } = this;
    const needle = `"${key}"`;
    for (let i = text.indexOf(needle, this.start); i >= 0; i = text.indexOf(needle, i + needle.length)) {
      if (text.charCodeAt(i - 1) === 10) continue; // its own line
      const s = text.lastIndexOf("\n", i) + 1;
      const k = text.slice(s + 1, text.indexOf('":', s + 1));
      if (out[out.length - 1] !== k) out.push(k);
    }
    this.answers.set(`mentioning ${key}`, out.slice());
    return out;
  }

  /** Every entry's own subnet, in line order: one regular-expression pass over the lines' fixed prefix. */
  ownSubnets(): string[] {
    if (this.subnets) return this.subnets;
    const out: string[] = [];
    const { text } = this;
    // Every line starts `"<key>":{"status":"<status>","subnet":"<subnet>"` (indexEntryOf's order).
    const re = /\n"[a-z0-9/-]+":\{"status":"[a-z]+","subnet":"([0-9./]+)"/g;
    re.lastIndex = this.start - 1;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (!isCidrText(m[1])) this.fail(`the index holds the subnet ${JSON.stringify(m[1])}, which is not a CIDR`);
      out.push(m[1]!);
    }
    if (this.lineCount() !== out.length) this.fail("an index line does not start with its key, status and subnet");
    this.subnets = out;
    return out;
  }

  /**
   * Every entry's own subnet that overlaps the addresses `first`…`last` (subnet allocation's
   * pool), as numbers: its base (masked to its prefix, as `parseCidr` gives it) and its prefix, in
   * line order. The pass of `ownSubnets` without a string made per env for subnet allocation to
   * parse again (at 10,000 envs that parse was most of create's pass), and nothing kept of the
   * subnets outside the pool.
   */
  ownSubnetsWithin(first: number, last: number): { base: number; prefix: number }[] {
    const out: { base: number; prefix: number }[] = [];
    const { text } = this;
    const re = SUBNET_NUMBERS;
    re.lastIndex = this.start - 1;
    let n = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      n++;
      const a = +m[1]!;
      const b = +m[2]!;
      const c = +m[3]!;
      const d = +m[4]!;
      const prefix = +m[5]!;
      // isCidrText's ranges (its digit counts are the expression's)
      if (a > 255 || b > 255 || c > 255 || d > 255 || prefix > 32) this.fail(`the index holds the subnet ${a}.${b}.${c}.${d}/${prefix}, which is not a CIDR`);
      const size = BLOCK_SIZES[prefix]!;
      const base = prefix === 0 ? 0 : Math.floor((((a * 256 + b) * 256 + c) * 256 + d) / size) * size;
      if (base <= last && first <= base + size - 1) out.push({ base, prefix });
    }
    if (this.lineCount() !== n) this.fail("an index line does not start with its key, status and subnet");
    return out;
  }

  private lineCount(): number {
    const { text } = this;
    let lines = 0;
    for (let i = text.indexOf("\n", this.start - 1); i >= 0 && i < text.length - 4; i = text.indexOf("\n", i + 1)) lines++;
    return lines;
  }

  /**
   * The keys of the lines that hold `needle` (a field such as `,"host":"`), in line order, each
   * once; with `first`, only the first key it accepts (or none).
   */
  keysWith(needle: string, first?: (key: string) => boolean): string[] {
    if (first === undefined && FIELDS.includes(needle)) this.scanFields();
    const known = first === undefined ? this.answers.get(`with ${needle}`) : undefined;
    if (known) return known.slice();
    const out: string[] = [];
    const { text } = this;
    for (let i = text.indexOf(needle, this.start); i >= 0; i = text.indexOf(needle, i + needle.length)) {
      const s = text.lastIndexOf("\n", i) + 1;
      const k = text.slice(s + 1, text.indexOf('":', s + 1));
      if (out[out.length - 1] === k) continue;
      if (first === undefined) out.push(k);
      else if (first(k)) return [k]; // only the first key `first` accepts
    }
    if (first === undefined) this.answers.set(`with ${needle}`, out.slice());
    return out;
  }

  /**
   * `keysWith` of each of `FIELDS` (the fields that make a line more than its fixed prefix: a
   * host, extra subnets, a DNS suffix of its own), by one pass over the text for all three.
   */
  private scanFields(): void {
    if (this.answers.has(`with ${FIELDS[0]}`)) return;
    const found = FIELDS.map(() => [] as string[]);
    const { text } = this;
    const re = FIELDS_RE;
    re.lastIndex = this.start;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const out = found[FIELDS.indexOf(m[0])]!;
      const s = text.lastIndexOf("\n", m.index) + 1;
      const k = text.slice(s + 1, text.indexOf('":', s + 1));
      if (out[out.length - 1] !== k) out.push(k);
    }
    for (let i = 0; i < FIELDS.length; i++) this.answers.set(`with ${FIELDS[i]}`, found[i]!);
  }

  /**
   * The keys of the lines where one of `values` is written as a JSON string (`"<value>"`), in the
   * text's order, each once: values of the renderer's form (subnets, names) are found exactly.
   */
  keysMentioningValue(values: readonly string[]): string[] {
    const out = new Set<string>();
    const { text } = this;
    for (const value of values) {
      const needle = JSON.stringify(value);
      for (let i = text.indexOf(needle, this.start); i >= 0; i = text.indexOf(needle, i + needle.length)) {
        const s = text.lastIndexOf("\n", i) + 1;
        out.add(text.slice(s + 1, text.indexOf('":', s + 1)));
      }
    }
    return [...out];
  }

  /**
   * The keys of the envs named `env` (in any project), found by their lines' text: no pass over
   * the other lines. `/<env>":{` closes an env key only (inside an entry only `extra_subnets`
   * holds an object, and a string's quotes are escaped).
   */
  keysNamed(env: string): string[] {
    const out: string[] = [];
    if (this.lite) {
      for (const k of this.lite.keys)
        if (k.length > env.length && k.endsWith(env) && k.charCodeAt(k.length - env.length - 1) === 47 && k.indexOf("/") === k.length - env.length - 1)
          out.push(k);
      return out;
    }
    const { text } = this;
    const needle = `/${env}":{`;
    const known = this.answers.get(`named ${needle}`);
    if (known) return known.slice();
    for (let i = text.indexOf(needle, this.start); i >= 0; i = text.indexOf(needle, i + needle.length)) {
      const s = text.lastIndexOf("\n", i) + 1;
      const key = text.slice(s + 1, i + env.length + 1);
      if (text.charCodeAt(s) === 34 && ENV_KEY.test(key)) out.push(key);
    }
    this.answers.set(`named ${needle}`, out.slice());
    return out;
  }

  /** The whole index parsed and checked at once (every entry, and no subnet shared): for passes that need whole entries. */
  all(): Record<string, EnvIndexEntry> {
    if (!this.whole) {
      let index: Record<string, EnvIndexEntry>;
      try {
        index = JSON.parse(`{${this.text.slice(this.start, this.text.length - 2)}`) as Record<string, EnvIndexEntry>;
      } catch {
        this.fail("the index is not valid JSON");
      }
      this.checkWhole(index);
      this.whole = index;
    }
    return this.whole;
  }

  /**
   * The entry lines with `changes` made (replaced, removed: undefined, or added last), as runs
   * of whole lines to be joined by `,\n` (`sealParts`): the body of the next sealed text. Only
   * the changed lines are touched; the runs between them are slices of this text.
   */
  splice(changes: ReadonlyMap<string, string | undefined>): { parts: string[]; same: number; lines: Map<string, number> } {
    const { text } = this;
    const at: { key: string; s: number; e: number; line: string | undefined }[] = [];
    const added: [string, string][] = [];
    for (const [key, line] of changes) {
      const s = this.lineOf(key);
      if (s >= 0) at.push({ key, s, e: this.lineEnd(s), line });
      else if (line !== undefined) added.push([key, line]);
    }
    at.sort((a, b) => a.s - b.s);
    const parts: string[] = [];
    // Where the changed keys' lines are in the new text (-1: removed), for its view (`lineHints`).
    const lines = new Map<string, number>();
    let pos = this.start; // where the next part starts in the new text (its first line is as long as this one's)
    const push = (part: string, key?: string) => {
      if (key !== undefined) lines.set(key, pos);
      parts.push(part);
      pos += part.length + 2;
    };
    const end = text.length - 4; // the line break before the closing `}}`
    let cur = this.start;
    for (const { key, s, e, line } of at) {
      if (s > cur) push(text.slice(cur, s - 2)); // the unchanged lines before, without their last separator
      if (line !== undefined) push(line, key);
      else lines.set(key, -1);
      cur = e + 2;
    }
    if (cur < end) push(text.slice(cur, end));
    for (const [key, line] of added) push(line, key);
    // The new entry lines are these ones up to the separator before the first line changed (all of
    // them when lines are only added).
    const same = at.length > 0 ? Math.max(0, at[0]!.s - 2 - this.start) : Math.max(0, end - this.start);
    return { parts, same, lines };
  }
}

/** The subnets an entry holds (its own and its extra ones) as owners, for the clash checks. */
export function ownersOf(key: string, e: IndexLite, out: SubnetOwner[]): void {
  const host = e.host;
  out.push(typeof host === "string" ? { key, subnet: e.subnet, host } : { key, subnet: e.subnet });
  if (e.extra_subnets !== undefined)
    for (const network in e.extra_subnets) {
      const subnet = e.extra_subnets[network]!;
      out.push(typeof host === "string" ? { key, subnet, network, host } : { key, subnet, network });
    }
}

const viewOfIndex = new WeakMap<object, IndexView>();

/** The view behind an index object made by `indexOfView`, if it is one. */
export function viewOf(index: object): IndexView | undefined {
  return viewOfIndex.get(index);
}

/**
 * An index object over a view: reading a key parses that entry alone; enumerating the keys scans
 * the lines; it is never changed (the store keeps changes beside it). Callers that need every
 * whole entry ask the view for `all()` (indexArrays in layout.ts).
 */
export function indexOfView(view: IndexView): Readonly<Record<string, EnvIndexEntry>> {
  const refuse = (): never => {
    throw new Error("the state index is read-only");
  };
  const index = new Proxy({} as Record<string, EnvIndexEntry>, {
    get: (t, p, r) => (typeof p === "string" && p.includes("/") ? view.get(p) : Reflect.get(t, p, r)),
    has: (t, p) => (typeof p === "string" && p.includes("/") ? view.has(p) : Reflect.has(t, p)),
    ownKeys: () => view.keys(),
    getOwnPropertyDescriptor: (_t, p) => {
      if (typeof p !== "string") return undefined;
      const value = view.get(p);
      return value === undefined ? undefined : { value, writable: true, enumerable: true, configurable: true };
    },
    set: refuse,
    defineProperty: refuse,
    deleteProperty: refuse,
  });
  viewOfIndex.set(index, view);
  return index;
}
