import { spawn } from "node:child_process";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type DockerEndpoint, dockerProcessEnv } from "../docker-endpoint.ts";

/**
 * How to start cilo again (for its detached helpers: the reaper, the shared-service collector): the same runtime and entry point this code came from —
 * `src/main.ts` under tsx (with the loader flags this process got) or Deno, `dist/cilo.mjs` from the
 * bundle (whose chunks live in `dist/chunks/`).
 */
export function ciloCommandLine(): { command: string; args: string[]; cwd: string } {
  const here = fileURLToPath(import.meta.url);
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const fromSource = here.endsWith(".ts");
  const entry = fromSource
    ? resolve(dirname(here), "../../main.ts")
    : join(basename(dirname(here)) === "chunks" ? resolve(dirname(here), "..") : dirname(here), "cilo.mjs");
  // Loader flags such as `--import tsx` resolve from the working folder: the package root.
  const cwd = fromSource ? resolve(dirname(here), "../../..") : dirname(entry);
  if (deno) return { command: deno.execPath(), args: ["run", "-A", entry], cwd };
  return { command: process.execPath, args: [...(fromSource ? loaderFlags(process.execArgv) : []), entry], cwd };
}

function loaderFlags(execArgv: string[]): string[] {
  const out: string[] = [];
  const withValue = ["--import", "--require", "-r", "--loader", "--experimental-loader"];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (withValue.includes(a) && execArgv[i + 1] !== undefined) out.push(a, execArgv[++i]!);
    else if (withValue.some((f) => a.startsWith(`${f}=`))) out.push(a);
  }
  return out;
}

/**
 * Starts `cilo <args>` detached from this process, with the environment `from.env` plus `env` (own session, no stdio), so it outlives it.
 * Crash injection (`CILO_FAILPOINT`) is not passed on. It works on this process's Docker engine
 * even if the Docker context changes meanwhile. Returns its pid, if it started.
 */
export function spawnDetachedCilo(
  from: { env: NodeJS.ProcessEnv; endpoint(): DockerEndpoint },
  args: string[],
  env: NodeJS.ProcessEnv = {},
): number | undefined {
  const { command, args: pre, cwd } = ciloCommandLine();
  let childEnv: NodeJS.ProcessEnv = { ...from.env, ...env };
  try {
    childEnv = dockerProcessEnv(childEnv, from.endpoint());
  } catch {
    // No endpoint resolves here: the helper reports that itself when it needs the engine.
  }
  delete childEnv["CILO_FAILPOINT"];
  const child = spawn(command, [...pre, ...args], { cwd, env: childEnv, detached: true, stdio: "ignore" });
  child.on("error", () => {});
  child.unref();
  return child.pid;
}
