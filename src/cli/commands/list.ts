import type { CiloContext } from "../../core/context/context.ts";
import { usageError } from "../../core/errors.ts";
import { normaliseName } from "../../core/names.ts";
import { leaseText } from "../../core/env/env-summary.ts";
import { envRecords } from "../../core/state/find-env.ts";
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
  const envs = envRecords(state, project);
  let out: string;
  if (format === "json") {
    const { envViews } = await import("../../core/env/env-view.ts");
    out = JSON.stringify(envViews(ctx, state, project), null, 2);
  } else if (format === "quiet") {
    out = envs.map((e) => `${e.project}/${e.name}`).join("\n");
  } else if (envs.length === 0) {
    out = "No envs. Create one with: cilo create <env> --from <project folder>";
  } else {
    out = table(
      ["PROJECT", "ENV", "STATUS", "HOST", "SUBNET", "SERVICES", "CREATED", "LEASE/TTL"],
      envs.map((e) => [
        e.project,
        e.name,
        e.status,
        e.host ?? "local",
        e.subnet,
        String(e.services.length),
        e.created_at.slice(0, 19).replace("T", " "),
        leaseText(e, ctx.clock.now()),
      ]),
    );
  }
  if (out.length > 0) process.stdout.write(`${out}\n`);
  return 0;
}
