import { spawn } from "node:child_process";
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { run } from "../proc/run.ts";

// The start of a push's listing (sync-walk.ts): GNU find begun in a process of its own, in a
// module light enough for the CLI to begin it before the rest of `cilo sync` loads (env/sync-early.ts).

/** Runs `find` (argv) in a folder: `proc/run.ts`'s `run` bound to the caller's environment. */
export type FindRunner = (args: string[], cwd: string) => Promise<{ code: number; stdout: string }>;

/**
 * GNU find where it is the system's (Linux), run in the C locale; undefined elsewhere (the walk
 * from Node lists then). Its output goes to a file of its own, not a pipe: 500 KB of listing
 * through a 64 KiB pipe made find wait for Node's reads (21 ms instead of 10). The file is made
 * in `scratch` (cilo's home) with O_EXCL and removed at once (open, it is only this process's).
 */
export function systemFind(env: NodeJS.ProcessEnv, scratch: string): FindRunner | undefined {
  if (process.platform !== "linux") return undefined;
  const findEnv = { ...env, LC_ALL: "C" };
  return (args, cwd) => {
    const path = join(scratch, `.listing-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
    let fd: number | undefined;
    try {
      fd = openSync(path, "wx+", 0o600);
      unlinkSync(path);
    } catch {
      if (fd !== undefined) closeSync(fd);
      return run("find", args, { cwd, env: findEnv }); // no file of its own (a read-only home): through a pipe
    }
    const file = fd;
    return new Promise((resolve) => {
      let finished = false;
      const done = (code: number) => {
        if (finished) return;
        finished = true;
        let stdout = "";
        try {
          const size = fstatSync(file).size;
          const buf = Buffer.allocUnsafe(size);
          let got = 0;
          while (got < size) {
            const n = readSync(file, buf, got, size - got, got);
            if (n === 0) break;
            got += n;
          }
          stdout = buf.toString("utf8", 0, got);
        } catch {
          code = code === 0 ? 1 : code;
        } finally {
          closeSync(file);
        }
        resolve({ code, stdout });
      };
      let child: ReturnType<typeof spawn>;
      try {
        child = spawn("find", args, { cwd, env: findEnv, stdio: ["ignore", file, "ignore"] });
      } catch {
        done(127);
        return;
      }
      child.on("error", () => done(127));
      child.on("close", (code) => done(code ?? 128));
    });
  };
}

/**
 * GNU find's listing of a workspace in the form of sync-walk.ts's `Listed` (folders, symlinks and
 * regular files; sockets, fifos and devices print nothing). Top-level `.cilo` and `.git` are
 * pruned, as the walk leaves them out.
 */
export const FIND_ARGS = [
  ...". -mindepth 1 ( -path ./.cilo -o -path ./.git ) -prune".split(" "),
  ...["-o", "-type", "d", "-printf", "d\\0%P\\0\\0"],
  ...["-o", "-type", "l", "-printf", "l\\0%P\\0%l\\0\\0"],
  ...["-o", "-type", "f", "-printf", "f\\0%P\\0%s\\0%T@\\0%m\\0\\0"],
];

/** A workspace's `.ciloignore` text ("" when it has none). */
export function readCiloignore(workspace: string): string {
  const file = join(workspace, ".ciloignore");
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

/** Whether `.ciloignore` holds a rule (not only blank lines and comments). */
export function hasRules(ciloignore: string): boolean {
  return !ciloignore.split(/\r?\n/).every((l) => l.trim() === "" || l.startsWith("#"));
}

/** A listing begun: when (racy mtimes are judged from it), and GNU find's run when one was started. */
export interface Listing {
  walkedAt: number;
  find?: Promise<{ code: number; stdout: string }>;
}

/**
 * Begins listing `workspace` for sync-walk.ts's `listChanges`: with GNU find when `find` is given
 * (Linux) and `.ciloignore` has no rules (find would descend into ignored folders the walk
 * prunes). find stats each entry in C, in a process of its own that runs while the caller goes on
 * (10,000 files: the walk's lstats from Node, which also make a Stats object and four Dates each,
 * took about twice as long).
 */
export function startListing(workspace: string, ciloignore: string, find?: FindRunner): Listing {
  const walkedAt = Date.now();
  if (!find || hasRules(ciloignore)) return { walkedAt };
  return { walkedAt, find: find(FIND_ARGS, workspace) };
}
