import { spawn, type StdioOptions } from "node:child_process";
import { messageOf } from "../errors.ts";

export interface RunResult {
  code: number;
  signal?: string;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** "pipe" (default) captures output; "inherit" hands the terminal over. */
  stdio?: "pipe" | "inherit";
  /**
   * What the program reads on stdin. A promise is written when it resolves: the program (spawned
   * when `run` is called) starts meanwhile, e.g. rsync opening its ssh connection while the caller
   * still works out the list of files it will read (or a push over ssh its tar).
   */
  input?: string | Buffer | Promise<string | Buffer>;
  signal?: AbortSignal;
  /** Called with each chunk of output while capturing (for streaming progress). */
  onOutput?: (chunk: string, stream: "stdout" | "stderr") => void;
}

/** Runs a program without a shell and collects its output. ENOENT surfaces as code 127. */
/** `opts.env` is the whole environment of the program (core never hands it `process.env` implicitly). */
export function run(cmd: string, args: string[], opts: RunOptions & { env: NodeJS.ProcessEnv }): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const stdio: StdioOptions = opts.stdio === "inherit" ? "inherit" : [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"];
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio, ...(opts.signal ? { signal: opts.signal } : {}) });
    } catch (e) {
      resolve({ code: 127, stdout: "", stderr: messageOf(e), ms: Date.now() - started });
      return;
    }
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      opts.onOutput?.(d, "stdout");
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      opts.onOutput?.(d, "stderr");
    });
    if (typeof opts.input === "string" || Buffer.isBuffer(opts.input)) child.stdin?.end(opts.input);
    else if (opts.input !== undefined) {
      child.stdin?.on("error", () => {}); // a program that exits first: its exit code says why
      opts.input.then(
        (s) => child.stdin?.end(s),
        () => child.kill(),
      );
    }
    child.on("error", (e: NodeJS.ErrnoException) => {
      resolve({ code: e.code === "ENOENT" ? 127 : 1, stdout, stderr: stderr + messageOf(e), ms: Date.now() - started });
    });
    child.on("close", (code, signal) => {
      resolve({ code: code ?? 128, ...(signal ? { signal } : {}), stdout, stderr, ms: Date.now() - started });
    });
  });
}
