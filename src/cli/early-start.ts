import type { CiloContext } from "../core/context/context.ts";
import { timing } from "../core/timeline.ts";
import type { EarlyCompose } from "../core/env/up-early.ts";
import type { EarlyPush } from "../core/host/early-push.ts";

/*
 * `cilo up <env>` and `cilo sync <env>` begin their slow outside part (compose's Python start;
 * the workspace listing and the ssh session of the push) before the command-line parser and the
 * command modules load: those take ~50 ms of a slow machine's CPU, and the outside part then runs
 * beside them (docs/performance.md, "Start-up: what was changed"). Only a plain command
 * line is read here (the command, one env, the options that command knows); anything else is left
 * to the parser and the command, which then begins the same part itself. Whatever is begun here is
 * checked again by the operation that takes it (`upEnv`: same env and compose arguments;
 * `syncWorkspace`: same workspace, `.ciloignore`, remote folder and ssh target) and cancelled by
 * it otherwise, and by `cancel` when the command never ran (a usage error, `--help`).
 */

/** What a command began before the parser loaded; `undefined` in `up`/`push` when it could not. */
export type EarlyStart = { command: "up"; up: EarlyCompose | undefined; cancel(): void } | { command: "sync"; push: EarlyPush | undefined; cancel(): void };

/** A plain command line of `up` or `sync`: its env and the options that shape what begins early. */
export interface PlainLine {
  command: "up" | "sync";
  ref: string;
  project?: string;
  build: boolean;
  recreate: boolean;
}

/** Options of each command that take a value, and those that do not (docs/cli.md). */
export const EARLY_OPTIONS: Record<PlainLine["command"], { values: readonly string[]; flags: readonly string[] }> = {
  up: { values: ["project", "timeout", "profile", "share", "isolate", "shared-network"], flags: ["build", "recreate", "wait", "json"] },
  // --pull, --full and --watch begin nothing early (sync-early.ts): such a line is left to the command.
  sync: { values: ["project"], flags: ["json"] },
};

/**
 * `argv` (without node and script) read as a plain `up` or `sync` line, or undefined: another
 * command, `--help`, `--`, an option the command does not know or written another way, a missing
 * value, or not exactly one env. Pure.
 */
export function plainLine(argv: readonly string[]): PlainLine | undefined {
  const command = argv[0];
  if (command !== "up" && command !== "sync") return undefined;
  const known = EARLY_OPTIONS[command];
  const line: PlainLine = { command, ref: "", build: false, recreate: false };
  const positionals: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const token = argv[i]!;
    if (!token.startsWith("-")) {
      positionals.push(token);
      continue;
    }
    const eq = token.indexOf("=");
    const name = token.slice(2, eq < 0 ? undefined : eq);
    if (!token.startsWith("--") || name === "") return undefined;
    if (known.flags.includes(name)) {
      if (eq >= 0) return undefined;
      if (name === "build") line.build = true;
      if (name === "recreate") line.recreate = true;
      continue;
    }
    if (!known.values.includes(name)) return undefined;
    const value = eq >= 0 ? token.slice(eq + 1) : argv[++i];
    if (value === undefined || value === "" || (eq < 0 && value.startsWith("-"))) return undefined;
    if (name === "project") {
      if (line.project !== undefined) return undefined;
      line.project = value;
    }
  }
  if (positionals.length !== 1) return undefined;
  line.ref = positionals[0]!;
  return line;
}

/**
 * Begins the outside part of a plain `up`/`sync` line (see above), or returns undefined for any
 * other line. Loads only that command's first step (`up-early.ts` or `sync-early.ts`).
 */
export async function beginEarly(ctx: CiloContext, argv: readonly string[], showOutput: boolean): Promise<EarlyStart | undefined> {
  const line = plainLine(argv);
  if (!line) return undefined;
  const project = line.project !== undefined ? { project: line.project } : {};
  if (line.command === "up") {
    const { startUpCompose } = await import("../core/env/up-early.ts");
    const up = await startUpCompose(ctx, {
      ref: line.ref,
      ...project,
      build: line.build,
      recreate: line.recreate,
      ...(showOutput ? { onOutput: (c: string) => process.stderr.write(c) } : {}),
    });
    timing(ctx.env, up ? "up: compose started before the parser loaded" : "up: nothing begun before the parser");
    return { command: "up", up, cancel: () => up?.cancel() };
  }
  const { startEarlyPush } = await import("../core/env/sync-early.ts");
  const push = await startEarlyPush(ctx, { ref: line.ref, ...project });
  timing(ctx.env, push ? "sync: listing and receiver begun before the parser loaded" : "sync: nothing begun before the parser");
  return { command: "sync", push, cancel: () => push?.receiver?.cancel() };
}
