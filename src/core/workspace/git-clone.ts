import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { CiloError, ExitCode, usageError } from "../errors.ts";
import { git, gitMessage, gitOrFail } from "./git.ts";

const COMMIT_ID = /^[0-9a-f]{4,40}$/i;

/**
 * Clones `url` into `dest` (absent or an empty folder). `ref` may name a branch or a tag (cloned
 * with `--branch`) or a commit id, full or abbreviated (cloned, then checked out detached).
 * Leaves cleaning up a failed clone to the caller.
 */
export async function cloneRepo(processEnv: NodeJS.ProcessEnv, url: string, dest: string, ref?: string, signal?: AbortSignal): Promise<void> {
  const what = `Cannot clone ${url}`;
  if (ref === undefined) {
    await gitOrFail(processEnv, ["clone", "--quiet", "--", url, dest], what, signal);
    return;
  }
  if (ref === "" || ref.startsWith("-")) throw usageError(`The git ref "${ref}" is not a branch, tag or commit name`);
  if (await isBranchOrTag(processEnv, url, ref, signal)) {
    await gitOrFail(processEnv, ["clone", "--quiet", `--branch=${ref}`, "--", url, dest], what, signal);
    return;
  }
  if (!COMMIT_ID.test(ref)) throw refNotFound(url, ref);
  await gitOrFail(processEnv, ["clone", "--quiet", "--no-checkout", "--", url, dest], what, signal);
  const checkout = await git(processEnv, ["-C", dest, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", ref], signal);
  if (checkout.code !== 0) throw refNotFound(url, ref, gitMessage(checkout));
}

async function isBranchOrTag(processEnv: NodeJS.ProcessEnv, url: string, ref: string, signal?: AbortSignal): Promise<boolean> {
  const wanted = [`refs/heads/${ref}`, `refs/tags/${ref}`];
  const listing = await gitOrFail(processEnv, ["ls-remote", "--", url, ...wanted], `Cannot read the refs of ${url}`, signal);
  return listing.split("\n").some((line) => wanted.includes(line.split("\t")[1] ?? ""));
}

function refNotFound(url: string, ref: string, cause?: string): CiloError {
  return new CiloError("E_GIT_REF", `The git ref "${ref}" is not a branch, tag or commit of ${url}`, {
    exitCode: ExitCode.usage,
    hint: "Pass an existing branch, tag or commit id with --ref",
    ...(cause ? { cause: new Error(cause) } : {}),
  });
}

/** Files cilo generates inside a workspace (under `.cilo/`, beside the user's own config). */
export const GENERATED_FILES = ["/.cilo/compose.yml", "/.cilo/interpolation.env"];

/**
 * Keeps cilo's generated files out of `git status`/`git diff` of a cloned workspace through its
 * own `.git/info/exclude` (a clone's metadata is the workspace's, not the user's repository).
 */
export function excludeGenerated(dest: string): void {
  const info = join(dest, ".git", "info");
  mkdirSync(info, { recursive: true });
  appendFileSync(join(info, "exclude"), `# cilo's generated files\n${GENERATED_FILES.join("\n")}\n`);
}
