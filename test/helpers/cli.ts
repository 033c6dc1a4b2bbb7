import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as assert from "uvu/assert";
import "./engine.ts"; // the engine of this pass (CILO_TEST_ENGINE): sets DOCKER_HOST before any test runs

export const repoRoot = new URL("../../", import.meta.url).pathname;

/**
 * The command that runs cilo in tests: the bundled CLI by default; `CILO_TEST_CMD` overrides it
 * (e.g. "deno run -A src/main.ts" for the Deno runs).
 */
export function ciloCommand(): string[] {
  const override = process.env["CILO_TEST_CMD"];
  if (override) return override.split(" ").filter(Boolean);
  return [process.execPath, join(repoRoot, "dist/cilo.mjs")];
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  home: string;
  cwd?: string;
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
}

/** Runs cilo synchronously with a given CILO_HOME. */
export function cilo(args: string[], opts: CliOptions): CliResult {
  const [cmd, ...pre] = ciloCommand();
  const r = spawnSync(cmd!, [...pre, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: { ...process.env, CILO_HOME: opts.home, NO_COLOR: "1", ...opts.env },
    encoding: "utf8",
    input: opts.input ?? "",
    timeout: opts.timeoutMs ?? 300_000,
  });
  return { code: r.status ?? (r.signal ? 128 : 1), stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/**
 * `run` runs cilo with `opts` (a test's home, project folder and environment); `ok` runs it and
 * expects exit 0, else the test fails with the command, its exit code and its output.
 */
export function ciloRunner(opts: CliOptions): { run: (args: string[]) => CliResult; ok: (args: string[]) => CliResult } {
  const run = (args: string[]) => cilo(args, opts);
  const ok = (args: string[]) => {
    const r = run(args);
    assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}${r.stderr}`);
    return r;
  };
  return { run, ok };
}

/**
 * Runs `run(args)` and expects exit `code`, one line on stderr (besides its hint) matching
 * `pattern`, and the file `unchanged` (a home's state.json) byte for byte as before: a refusal that
 * loses nothing. Returns that line.
 */
export function refusedUnchanged(run: (args: string[]) => CliResult, unchanged: string, args: string[], code: number, pattern: RegExp): string {
  const before = readFileSync(unchanged, "utf8");
  const r = run(args);
  const what = `cilo ${args.join(" ")}`;
  assert.is(r.code, code, `${what} → ${r.code}\n${r.stdout}${r.stderr}`);
  const lines = r.stderr
    .trim()
    .split("\n")
    .filter((l) => !l.startsWith("hint:"));
  assert.is(lines.length, 1, `${what}: ${r.stderr}`);
  assert.match(lines[0]!, pattern, `${what}: ${lines[0]}`);
  assert.is(readFileSync(unchanged, "utf8"), before, `${what}: ${unchanged} untouched`);
  return lines[0]!;
}

/** A cilo child process: its output so far, and a promise of how it ended. */
export interface RunningCilo {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when it ends: the exit code (128 when a signal ended it) and all its output. */
  done: Promise<CliResult>;
}

/** Starts cilo as a child process (for tests that signal it or watch it while it runs). */
export function startCilo(args: string[], opts: CliOptions): RunningCilo {
  const [cmd, ...pre] = ciloCommand();
  const child = spawn(cmd!, [...pre, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: { ...process.env, CILO_HOME: opts.home, NO_COLOR: "1", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr })));
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    done,
  };
}

/** Runs cilo as a child process and resolves when it ends. */
export function ciloAsync(args: string[], opts: CliOptions): Promise<CliResult> {
  return startCilo(args, opts).done;
}

export function tempDir(prefix = "cilo-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
