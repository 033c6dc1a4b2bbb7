// `cilo run --json` output: NDJSON, one workflow event a line.

/** The events of `cilo run --json` output; every line must be one JSON value (a blank line or other text throws). */
export function events(stdout: string): any[] {
  const body = stdout.trimEnd();
  return body === "" ? [] : body.split("\n").map((l) => JSON.parse(l));
}
