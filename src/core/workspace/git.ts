import { CiloError, prerequisiteError } from "../errors.ts";
import { run, type RunResult } from "../proc/run.ts";

/** Variables that would point git at another repository than the one named with `-C`. */
const REPO_VARIABLES = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR"];

/**
 * Runs git without a shell, never prompting for credentials, with C-locale messages.
 * A missing git is a prerequisite error (exit 3); an abort rethrows the signal's reason.
 */
export async function git(processEnv: NodeJS.ProcessEnv, args: string[], signal?: AbortSignal): Promise<RunResult> {
  const result = await run("git", args, { env: gitEnv(processEnv), ...(signal ? { signal } : {}) });
  signal?.throwIfAborted();
  if (result.code === 127) {
    throw prerequisiteError("E_GIT_MISSING", "Cannot run git: it is not installed or not on PATH", "Install git, or use --clone copy");
  }
  return result;
}

/** The environment of a git call: `base` without prompts, in the C locale, and without variables that point at another repository. */
export function gitEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" };
  for (const name of REPO_VARIABLES) delete env[name];
  return env;
}

/** Runs git and returns its trimmed output; a failure becomes a CiloError with git's own last words. */
export async function gitOrFail(processEnv: NodeJS.ProcessEnv, args: string[], what: string, signal?: AbortSignal): Promise<string> {
  const result = await git(processEnv, args, signal);
  if (result.code !== 0) throw new CiloError("E_GIT_FAILED", `${what}: ${gitMessage(result)}`);
  return result.stdout.trim();
}

/** The line of git's stderr that says what went wrong (its last `fatal:`/`error:` line, else the last). */
export function gitMessage(result: RunResult): string {
  const lines = result.stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const said = lines.filter((l) => /^(fatal|error):/.test(l)).pop() ?? lines.pop();
  return said?.replace(/^(fatal|error):\s*/, "") ?? `git exited with code ${result.code}`;
}
