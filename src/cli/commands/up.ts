import { upEnv } from "../../core/env/up-env.ts";
import { parseDurationMs } from "../duration.ts";
import { printJson, println } from "../output.ts";

interface UpOptions {
  project?: string;
  build?: boolean;
  recreate?: boolean;
  wait?: boolean;
  timeout?: string;
  profile?: string | string[];
  json?: boolean;
}

export default async function up(env: string, opts: UpOptions): Promise<number> {
  const profiles = opts.profile === undefined ? [] : Array.isArray(opts.profile) ? opts.profile.map(String) : [String(opts.profile)];
  const timeoutMs = opts.timeout !== undefined ? parseDurationMs(String(opts.timeout), "--timeout") : undefined;
  const showProgress = process.stderr.isTTY;
  const rec = await upEnv({
    ref: env,
    ...(opts.project ? { project: opts.project } : {}),
    build: !!opts.build,
    recreate: !!opts.recreate,
    wait: !!opts.wait,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    profiles,
    ...(showProgress ? { onOutput: (c: string) => process.stderr.write(c) } : {}),
  });
  if (opts.json) {
    printJson(rec);
    return 0;
  }
  println(`Up ${rec.project}/${rec.name}: ${rec.services.map((s) => `${s.name}${s.ip ? ` ${s.ip}` : ""}`).join(", ")}`);
  return 0;
}
