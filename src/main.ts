import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ExitCode, isCiloError, messageOf, usageError } from "./core/errors.ts";
import { fsFault } from "./core/fs/fs-fault.ts";
import type { CiloContext } from "./core/context/context.ts";
import { ciloVersion } from "./version.ts";

/**
 * The composition root: the one place that reads `process.env` and `process.cwd()`, and that picks
 * the container runtime (Docker or Podman, chosen or detected; dockerode loads when a command first needs it). Core
 * gets all of it through the context.
 */
export async function contextFromProcess(): Promise<CiloContext> {
  // Loaded here, not at the top: `cilo --version` must not pay for the context's modules.
  const { makeContext } = await import("./make-context.ts");
  return makeContext({ env: process.env, cwd: process.cwd() });
}

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code.
 * Errors are printed once here: `cilo: <message>` and an optional `hint:` line.
 * `--version` is answered before the command-line parser and the commands are loaded.
 */
export async function main(argv: string[], given?: CiloContext): Promise<number> {
  quietOnClosedPipe();
  try {
    if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
      process.stdout.write(`cilo ${ciloVersion()}\n`);
      return 0;
    }
    const ctx = given ?? (await contextFromProcess());
    // Internal: the detached watcher that destroys throwaway envs when their owner dies.
    if (argv[0] === "__reap") return await (await import("./core/env/reaper.ts")).runReaper(ctx, argv.slice(1));
    // Internal: stops a project's shared services once they have had no user for the grace period.
    if (argv[0] === "__shared-gc") return await (await import("./core/shared/shared-instance.ts")).runSharedCollector(ctx, argv.slice(1));
    // `up` and `sync` begin their outside part (compose's start; the push's listing and ssh) before
    // the parser and the command load (cli/early-start.ts); other commands never load that module.
    const early =
      argv[0] === "up" || argv[0] === "sync" ? await (await import("./cli/early-start.ts")).beginEarly(ctx, argv, process.stderr.isTTY === true) : undefined;
    try {
      const { buildCli } = await import("./cli/app.ts");
      return await buildCli(ctx, early).run(argv);
    } finally {
      early?.cancel(); // a no-op once the command took it; else (a usage error found later) nothing waits on it
    }
  } catch (e) {
    return reportError(e);
  }
}

export function reportError(e: unknown): number {
  const debug = process.env["CILO_DEBUG"] === "1";
  let err = e;
  if (!isCiloError(err) && err instanceof Error && err.name === "CACError") {
    err = usageError(cacMessage((err as Error).message), "Run cilo --help for the commands and options");
  }
  if (isCiloError(err)) {
    // A wrapped "Cannot find module" carries Node's "Require stack:" listing cilo's files: never shown.
    process.stderr.write(`cilo: ${err.message.replace(/\s*\nRequire stack:[\s\S]*$/, "")}\n`);
    if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    if (debug && err.cause) process.stderr.write(`cause: ${String(err.cause instanceof Error ? (err.cause.stack ?? err.cause) : err.cause)}\n`);
    return err.exitCode;
  }
  const fault = fsFault(err);
  if (fault) return reportError(fault);
  process.stderr.write(`cilo: ${messageOf(err).split("\n")[0]}\n`);
  process.stderr.write(`hint: This is a bug in cilo; run again with CILO_DEBUG=1 to see the stack trace and report it\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return ExitCode.failure;
}

/** `cilo list | head`: when the reader goes away, stop quietly, as a SIGPIPE would, not with a stack trace. */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(0);
      throw e;
    });
  }
}

function cacMessage(m: string): string {
  // cac's messages use backticks and lower case; make them one plain sentence.
  const s = m.replace(/`/g, '"');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function isEntryPoint(): boolean {
  if ((import.meta as ImportMeta & { main?: boolean }).main === true) return true;
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.exitCode = reportError(e);
    },
  );
}
