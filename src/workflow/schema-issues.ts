import type { ErrorObject } from "ajv";
import { closest, didYouMean } from "../core/suggest.ts";
import type { Segment } from "../core/yaml-source-map.ts";
import { ACTIONS, type ActionName } from "./types.ts";
import { isRecord } from "../core/is-record.ts";

/** A problem found in a workflow, before it is given a file position. */
export interface PathIssue {
  path: Segment[];
  /** Point at the key that holds the value (missing or unknown keys) or at the value itself. */
  target: "key" | "value";
  message: string;
}

type SchemaNode = { errorMessage?: string; properties?: Record<string, unknown> } & Record<string, unknown>;

const STEP_PATH = /^\/steps\/\d+(\/parallel\/\d+)*$/;
const ROOT_REQUIRED: Record<string, string> = {
  version: 'missing; expected "version: 1" at the top of the file',
  steps: "missing; expected a list of at least one step",
};

/**
 * Turns ajv's errors (run with `allErrors` and `verbose`) into one plain message per problem:
 * unknown keys with a suggestion, one issue per step for a missing or doubled action, and for
 * values that match none of several shapes the schema's `errorMessage` instead of each branch.
 */
export function schemaIssues(errors: readonly ErrorObject[], data: unknown): PathIssue[] {
  const issues: PathIssue[] = [];
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  for (const [pointer, group] of byPath) {
    const path = parsePointer(pointer);
    const value = valueAt(data, path);
    const deeper = errors.some((e) => e.instancePath.startsWith(`${pointer}/`));
    if (STEP_PATH.test(pointer) && isRecord(value)) {
      issues.push(...stepIssues(path, value, group));
      continue;
    }
    issues.push(...groupIssues(path, value, group, deeper));
  }
  return issues;
}

function stepIssues(path: Segment[], step: Record<string, unknown>, group: ErrorObject[]): PathIssue[] {
  const issues: PathIssue[] = [];
  const actions = ACTIONS.filter((a) => Object.hasOwn(step, a));
  const unknown = group.filter((e) => e.keyword === "additionalProperties").map((e) => String(e.params["additionalProperty"]));
  const stepSchema = group.find((e) => e.keyword === "additionalProperties" || e.keyword === "oneOf")?.parentSchema as SchemaNode | undefined;
  const known = Object.keys(stepSchema?.properties ?? {});
  const companions = (stepSchema?.["dependencies"] ?? {}) as Record<string, string[]>;
  const fields = known.filter((k) => !(ACTIONS as readonly string[]).includes(k) && (companions[k] ?? []).every((a) => actions.includes(a as ActionName)));
  for (const key of unknown) {
    const guess = closest(key, known);
    const hint = guess === undefined ? "" : ` (did you mean "${guess}"?)`;
    const isAction = actions.length === 0 && (guess === undefined || (ACTIONS as readonly string[]).includes(guess));
    issues.push({
      path: [...path, key],
      target: "key",
      message: isAction
        ? `unknown action "${key}"${hint}; expected one of ${ACTIONS.join(", ")}`
        : `unknown key "${key}"${hint}; expected one of ${fields.join(", ")}`,
    });
  }
  if (actions.length === 0 && unknown.length === 0 && group.some((e) => e.keyword === "oneOf")) {
    issues.push({ path, target: "value", message: `the step has no action; expected one of ${ACTIONS.join(", ")}` });
  }
  if (actions.length > 1) {
    const names = actions.map((a) => `"${a}"`);
    issues.push({
      path: [...path, actions[1]!],
      target: "key",
      message: `the step has ${actions.length} actions, ${names.slice(0, -1).join(", ")} and ${names.at(-1)}; a step has exactly one, so split it into ${actions.length} steps`,
    });
  }
  const rest = group.filter((e) => !["additionalProperties", "oneOf"].includes(e.keyword) && !isBranch(e));
  return [...issues, ...rest.map((e) => plainIssue(path, step, e, undefined))];
}

function groupIssues(path: Segment[], value: unknown, group: ErrorObject[], deeper: boolean): PathIssue[] {
  const composite = group.find((e) => e.keyword === "anyOf" || e.keyword === "oneOf");
  if (!composite) return group.filter((e) => e.keyword !== "propertyNames").map((e) => plainIssue(path, value, e, undefined));
  const fallback = (composite.parentSchema as SchemaNode).errorMessage;
  const rest = group.filter((e) => e !== composite && e.keyword !== "type" && !isBranch(e) && e.keyword !== "propertyNames");
  if (rest.length > 0 || deeper) return rest.map((e) => plainIssue(path, value, e, fallback));
  const expected = fallback ?? "a different value";
  if (group.some(isBranch)) return [{ path, target: "key", message: `missing a required key; expected ${expected}` }];
  return [{ path, target: "value", message: `got ${describe(value)}; expected ${expected}` }];
}

function plainIssue(path: Segment[], value: unknown, e: ErrorObject, fallback: string | undefined): PathIssue {
  const own = (e.parentSchema as SchemaNode | undefined)?.errorMessage;
  const expected = own ?? fallback;
  const got = `got ${describe(value)}`;
  const p = e.params as Record<string, unknown>;
  if (e.propertyName !== undefined) {
    return { path: [...path, e.propertyName], target: "key", message: `invalid name "${e.propertyName}"; expected ${expected ?? "another name"}` };
  }
  switch (e.keyword) {
    case "additionalProperties": {
      const key = String(p["additionalProperty"]);
      const allowed = Object.keys((e.parentSchema as SchemaNode).properties ?? {});
      const parent = path.at(-1);
      const message =
        allowed.length === 0
          ? `unknown key "${key}"; ${typeof parent === "string" ? parent : "this"} takes no options`
          : `unknown key "${key}"${didYouMean(key, allowed)}; expected one of ${allowed.join(", ")}`;
      return { path: [...path, key], target: "key", message };
    }
    case "required": {
      const key = String(p["missingProperty"]);
      if (path.length === 0 && ROOT_REQUIRED[key]) return { path: [key], target: "key", message: ROOT_REQUIRED[key]! };
      return { path, target: "key", message: `missing required key "${key}"` };
    }
    case "dependencies":
      return {
        path: [...path, String(p["property"])],
        target: "key",
        message: `"${String(p["property"])}" is only allowed together with "${String(p["missingProperty"])}"`,
      };
    case "enum": {
      const allowed = (p["allowedValues"] as unknown[]).map(String);
      const hint = typeof value === "string" ? didYouMean(value, allowed) : "";
      return { path, target: "value", message: `${got}${hint}; expected ${expected ?? `one of ${allowed.join(", ")}`}` };
    }
    case "type":
      return { path, target: "value", message: `${got}; expected ${expected ?? typePhrase(p["type"])}` };
    case "minItems":
      return { path, target: "value", message: `${got}; expected ${expected ?? `a list of at least ${String(p["limit"])}`}` };
    case "minLength":
      return { path, target: "value", message: `${got}; expected ${expected ?? "a non-empty string"}` };
    case "minimum":
    case "maximum":
      return { path, target: "value", message: `${got}; expected ${expected ?? `a number ${String(p["comparison"])} ${String(p["limit"])}`}` };
    case "const":
      return { path, target: "value", message: `${got}; expected ${expected ?? JSON.stringify(p["allowedValue"])}` };
    default:
      return { path, target: "value", message: `${got}; expected ${expected ?? e.message ?? "a different value"}` };
  }
}

/** A branch of a `oneOf`/`anyOf` that only requires a key (such as "a step has a run key"). */
function isBranch(e: ErrorObject): boolean {
  const schema = e.parentSchema as SchemaNode | undefined;
  return e.keyword === "required" && schema !== undefined && Object.keys(schema).length === 1;
}

function typePhrase(type: unknown): string {
  const names: Record<string, string> = {
    string: "a string",
    number: "a number",
    integer: "a whole number",
    boolean: "true or false",
    object: "a mapping",
    array: "a list",
    null: "nothing",
  };
  const types = Array.isArray(type) ? type : String(type).split(",");
  return types.map((t) => names[String(t)] ?? String(t)).join(" or ");
}

/** A short, one-line rendering of a value for messages. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  if (typeof value === "object") return Object.keys(value).length === 0 ? "an empty mapping" : "a mapping";
  if (typeof value === "string") {
    if (value === "") return "an empty string";
    const shown = JSON.stringify(value);
    return shown.length > 42 ? `${shown.slice(0, 40)}…"` : shown;
  }
  return String(value);
}

function parsePointer(pointer: string): Segment[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function valueAt(data: unknown, path: Segment[]): unknown {
  let v = data;
  for (const s of path) v = isRecord(v) || Array.isArray(v) ? (v as Record<string, unknown>)[s] : undefined;
  return v;
}
