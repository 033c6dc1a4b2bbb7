import type { CiloContext } from "../../core/context/context.ts";
import { startUpCompose } from "../../core/env/up-early.ts";
import type { PendingService } from "../../core/runtime/wait-services.ts";
import { readState } from "../../core/state/store.ts";
import { parseDurationMs } from "../duration.ts";
import type { EarlyStart } from "../early-start.ts";
import { notice, printJson, println, table } from "../output.ts";

interface UpOptions {
  project?: string;
  build?: boolean;
  recreate?: boolean;
  wait?: boolean;
  timeout?: string;
  profile?: string | string[];
  share?: string | string[];
  isolate?: string | string[];
  sharedNetwork?: string | string[];
  json?: boolean;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** `begun`: what the entry began before this module loaded (early-start.ts); else up begins it here. */
export default async function up(ctx: CiloContext, env: string, opts: UpOptions, begun?: EarlyStart): Promise<number> {
  const profiles = list(opts.profile);
  const timeoutMs = opts.timeout !== undefined ? parseDurationMs(String(opts.timeout), "--timeout") : undefined;
  const showProgress = process.stderr.isTTY;
  const composeOpts = {
    ref: env,
    ...(opts.project ? { project: opts.project } : {}),
    build: !!opts.build,
    recreate: !!opts.recreate,
    ...(showProgress ? { onOutput: (c: string) => process.stderr.write(c) } : {}),
  };
  // compose starts loading itself before the rest of up loads (core/env/up-early.ts): the static
  // imports above stay light, up-env.ts and what it needs are imported after.
  const early = begun?.command === "up" ? begun.up : await startUpCompose(ctx, composeOpts);
  const loading = Promise.all([import("../../core/env/up-env.ts"), import("../../core/env/env-view.ts"), import("../../core/env/urls.ts")]);
  // upEnv owns the early compose once called; until then a failure here kills it unfed (else it
  // would wait on its stdin and keep this process alive).
  loading.catch(() => early?.cancel());
  const [{ upEnv }, { liveEnvView }, { localGateway, serviceEndpoints }] = await loading;
  const rec = await upEnv(ctx, {
    ...composeOpts,
    ...(early ? { early } : {}),
    wait: !!opts.wait,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    profiles,
    share: list(opts.share),
    isolate: list(opts.isolate),
    sharedNetworks: list(opts.sharedNetwork),
    onWaiting: waitingNotices(),
  });
  if (opts.json) {
    printJson(await liveEnvView(ctx, rec));
    return 0;
  }
  println(`Up ${rec.project}/${rec.name}: ${rec.services.map((s) => `${s.name}${s.ip ? ` ${s.ip}` : ""}${s.shared ? " (shared)" : ""}`).join(", ")}`);
  const endpoints = serviceEndpoints(rec, readState(ctx).config, localGateway(ctx.env, ctx.endpoint().host));
  println(
    table(
      ["SERVICE", "URL", "TCP"],
      endpoints.map((e) => [e.service, e.urls.join("  "), e.tcp.map((t) => `${t.address} (→ ${t.port})`).join("  ")]),
    ),
  );
  return 0;
}

/** `waiting for api: starting (health)`, one notice per service whose reason changed (terminal or CILO_VERBOSE=1). */
function waitingNotices(): (pending: PendingService[]) => void {
  const said = new Map<string, string>();
  return (pending) => {
    for (const { service, why } of pending) {
      if (said.get(service) === why) continue;
      said.set(service, why);
      notice(`waiting for ${service}: ${why}`);
    }
  };
}
