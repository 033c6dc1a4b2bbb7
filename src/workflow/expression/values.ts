/** A value an expression can produce or read from its context: JSON data, nothing else. */
export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

/** Falsy like GitHub Actions: `false`, `0`, `-0`, `NaN`, `""` and `null`; lists and mappings are truthy. */
export function truthy(v: Value): boolean {
  if (v === null || v === false || v === "") return false;
  if (typeof v === "number") return v !== 0 && !Number.isNaN(v);
  return true;
}

/** The text of a value as it appears when interpolated: null is empty, lists and mappings are JSON. */
export function toText(v: Value): string {
  if (v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number") return Object.is(v, -0) ? "0" : String(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  return JSON.stringify(v);
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** Numeric coercion like GitHub Actions: null and "" are 0, booleans 0/1, JSON number text its value, else NaN. */
export function toNumber(v: Value): number {
  if (v === null) return 0;
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    const s = v.trim();
    if (s === "") return 0;
    return JSON_NUMBER.test(s) ? Number(s) : Number.NaN;
  }
  return Number.NaN;
}

type Kind = "null" | "boolean" | "number" | "string" | "composite";

function kindOf(v: Value): Kind {
  if (v === null) return "null";
  if (typeof v === "object") return "composite";
  return typeof v as Kind;
}

/**
 * `==`: values of one kind compare directly (strings case-sensitively, lists and mappings by
 * identity); values of different kinds compare as numbers, so `'42' == 42` and `null == 0`.
 */
export function looseEquals(a: Value, b: Value): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === kb) return a === b;
  if (ka === "composite" || kb === "composite") return false;
  return toNumber(a) === toNumber(b);
}

/** Ordering for `<`, `<=`, `>`, `>=`: two strings compare by code point, anything else as numbers. */
export function compare(a: Value, b: Value): number {
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  const x = toNumber(a);
  const y = toNumber(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.NaN;
  return x - y;
}

/** Reads `key` of a list or mapping: own data only, so `constructor`, `__proto__` or `toString` are null. */
export function member(target: Value, key: Value): Value {
  if (Array.isArray(target)) {
    return typeof key === "number" && Number.isInteger(key) && key >= 0 && key < target.length ? (target[key] ?? null) : null;
  }
  if (target === null || typeof target !== "object") return null;
  const name = typeof key === "number" ? String(key) : key;
  if (typeof name !== "string" || !Object.hasOwn(target, name)) return null;
  return asValue(target[name]);
}

/** Anything that is not JSON data (undefined, functions, symbols, bigints) reads as null. */
export function asValue(v: unknown): Value {
  switch (typeof v) {
    case "string":
    case "number":
    case "boolean":
      return v;
    case "object":
      return v as Value;
    default:
      return null;
  }
}
