import { spawn } from "node:child_process";
import { lineBuffer } from "./line-buffer.ts";

export interface ShellCommandOptions {
  /** Shell program; see `shellArguments` for how it is called. */
  shell: string;
  command: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Aborting stops the command's whole process tree (SIGTERM, then SIGKILL 3 s later). */
  signal?: AbortSignal;
  /** Each line of output as it comes. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** Told the process group id once the shell started (to end leftovers later). */
  onStart?: (pgid: number) => void;
}

export interface ShellCommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** How long to wait for output after the shell exits when a background process keeps the pipes open. */
const DRAIN_MS = 200;
/** Between SIGTERM and SIGKILL when a command is stopped. */
const KILL_GRACE_MS = 3000;

/**
 * Runs a command through a shell in its own process group, streaming its output line by line.
 * Resolves when the shell exits. Aborting signals the whole group, so grandchildren go too.
 */
export function runShellCommand(opts: ShellCommandOptions): Promise<ShellCommandResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      resolve({ code: null, signal: "SIGTERM" });
      return;
    }
    const child = spawn(opts.shell, shellArguments(opts.shell, opts.command), {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const pgid = child.pid;
    const streams = [lineSplitter(child.stdout, "stdout", opts.onLine), lineSplitter(child.stderr, "stderr", opts.onLine)];
    let exited: ShellCommandResult | undefined;
    let drain: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = () => {
      if (settled || !exited) return;
      settled = true;
      clearTimeout(drain);
      opts.signal?.removeEventListener("abort", onAbort);
      for (const s of streams) s.flush();
      resolve(exited);
    };
    const onAbort = () => {
      if (pgid !== undefined) killGroup(pgid, KILL_GRACE_MS);
    };
    child.on("error", (e) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener("abort", onAbort);
      reject(e);
    });
    if (pgid !== undefined) opts.onStart?.(pgid);
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      // A background process may hold the pipes open: give the output a moment, then stop reading.
      drain = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, DRAIN_MS);
    });
    child.on("close", finish);
  });
}

/** POSIX shells that take `-e`; bash also gets `-o pipefail`. */
const ERREXIT_SHELLS = new Set(["sh", "dash", "ash", "ksh", "mksh", "zsh"]);

/**
 * The arguments a run step's shell is called with. Like GitHub Actions, a script stops at its first
 * failing command: `bash --noprofile --norc -eo pipefail -c <script>`, `sh -e -c <script>` (also
 * dash, ash, ksh, zsh); any other program gets `-c <script>` alone. `set +e` in a script opts out.
 */
export function shellArguments(shell: string, command: string): string[] {
  const name = shell.slice(shell.lastIndexOf("/") + 1);
  if (name === "bash") return ["--noprofile", "--norc", "-eo", "pipefail", "-c", command];
  if (ERREXIT_SHELLS.has(name)) return ["-e", "-c", command];
  return ["-c", command];
}

/** SIGTERM to a process group, SIGKILL after `graceMs` if any of it is still there. */
function killGroup(pgid: number, graceMs: number): void {
  if (!signalGroup(pgid, "SIGTERM")) return;
  const deadline = Date.now() + graceMs;
  const watch = setInterval(() => {
    if (!signalGroup(pgid, 0)) clearInterval(watch);
    else if (Date.now() >= deadline) {
      signalGroup(pgid, "SIGKILL");
      clearInterval(watch);
    }
  }, 100);
}

/** Sends a signal to a process group; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

function lineSplitter(stream: NodeJS.ReadableStream, name: "stdout" | "stderr", onLine?: (line: string, stream: "stdout" | "stderr") => void) {
  const lines = lineBuffer((line, from) => onLine?.(line, from));
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => lines.write(chunk, name));
  stream.on("error", () => {});
  return { flush: () => lines.flush() };
}
