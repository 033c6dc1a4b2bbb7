import type { CiloContext } from "../../core/context/context.ts";
import { usageError } from "../../core/errors.ts";
import { normaliseName } from "../../core/names.ts";
import { leaseText } from "../../core/env/env-summary.ts";
import { envIndex } from "../../core/state/layout.ts";
import { readState } from "../../core/state/store.ts";
import { table } from "../output.ts";

interface ListOptions {
  format?: string;
  json?: boolean;
  project?: string;
}

export default async function list(ctx: CiloContext, opts: ListOptions): Promise<number> {
  const format = opts.json ? "json" : (opts.format ?? "table");
  if (!["table", "json", "quiet"].includes(format)) {
    throw usageError(`--format "${format}" is not one of table, json, quiet`);
  }
  const state = readState(ctx);
  const project = opts.project ? normaliseName(opts.project, "project") : undefined;
  // The table and quiet forms need only the records: building every env object (names, URLs) for
  // them more than doubled the start-up cost of `cilo list` at 1,000 envs, and loading the code that
  // builds them (gateway names, forwards, compose labels) cost ~40 ms more (bench/startup.ts).
  // They read only the state's index, not one file per env (docs/state.md, "Layout").
  // Sorted by project, then env: "<project>\0<env>" sorts so (NUL is below every name character),
  // with the built-in string order and no comparator call per comparison. No entry is copied.
  const index = envIndex(state);
  const order: string[] = [];
  for (const key in index) {
    const slash = key.indexOf("/");
    if (project === undefined || key.slice(0, slash) === project) order.push(`${key.slice(0, slash)}\0${key.slice(slash + 1)}`);
  }
  order.sort();
  const envs = order.map((k) => {
    const nul = k.indexOf("\0");
    const p = k.slice(0, nul);
    const n = k.slice(nul + 1);
    return { project: p, name: n, e: index[`${p}/${n}`]! };
  });
  let out: string;
  if (format === "json") {
    // Printed env by env (the text JSON.stringify(list, null, 2) makes): no 10,000-env string or array is built.
    const { forEachEnvView } = await import("../../core/env/env-view.ts");
    let chunk = "";
    let first = true;
    forEachEnvView(ctx, state, project, (view) => {
      const one = JSON.stringify([view], null, 2); // "[\n  {…}\n]": the view indented as an element
      chunk += `${first ? "[\n" : ",\n"}${one.slice(2, -2)}`;
      first = false;
      if (chunk.length >= 1 << 16) {
        process.stdout.write(chunk);
        chunk = "";
      }
    });
    out = first ? "[]" : `${chunk}\n]`;
  } else if (format === "quiet") {
    out = envs.map((e) => `${e.project}/${e.name}`).join("\n");
  } else if (envs.length === 0) {
    out = "No envs. Create one with: cilo create <env> --from <project folder>";
  } else {
    const now = ctx.clock.now();
    out = table(
      ["PROJECT", "ENV", "STATUS", "HOST", "SUBNET", "SERVICES", "CREATED", "LEASE/TTL"],
      envs.map(({ project, name, e }) => [
        project,
        name,
        e.status,
        e.host ?? "local",
        e.subnet,
        String(e.services),
        e.created_at.slice(0, 19).replace("T", " "),
        leaseText(e, now),
      ]),
    );
  }
  if (out.length > 0) process.stdout.write(`${out}\n`);
  return 0;
}
