import type { Value } from "./expression/values.ts";

/** Outputs as strings, as reports and `include` show them: non-strings as JSON. */
export function stringValues(outputs: Record<string, Value>): Record<string, string> {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}
