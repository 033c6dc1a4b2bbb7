import { CiloError, ExitCode, messageOf } from "./errors.ts";

/**
 * Lazy entry points for third-party CommonJS packages. A bundled dynamic import of a CommonJS
 * module only has `default`; under Node, Deno and tsx it also has the named exports. These
 * helpers give the module object either way.
 */
function unwrap<T>(m: unknown, probe: string): T {
  const mod = m as Record<string, unknown> | undefined;
  return (mod && typeof mod[probe] === "function" ? mod : mod?.["default"]) as T;
}

/**
 * A bundled module that fails to load is a bug in the build, not in the user's input: exit 1 with
 * one line. Node's "Cannot find module" message goes on with a "Require stack:" listing the
 * bundle's files, which must not reach the user.
 */
async function load<T>(name: string, probe: string, importer: () => Promise<unknown>): Promise<T> {
  try {
    return unwrap<T>(await importer(), probe);
  } catch (e) {
    const first = messageOf(e).split("\n")[0]!.trim();
    throw new CiloError("E_INTERNAL", `cilo's bundled module ${name} cannot be loaded: ${first}`, {
      exitCode: ExitCode.failure,
      hint: "This is a bug in cilo; run again with CILO_DEBUG=1 to see the cause and report it",
      cause: e,
    });
  }
}

export async function importYaml(): Promise<typeof import("yaml")> {
  return load("yaml", "parse", () => import("yaml"));
}

export async function importJsonc(): Promise<typeof import("jsonc-parser")> {
  return load("jsonc-parser", "parse", () => import("jsonc-parser"));
}

/** proper-lockfile, loaded when a lock is taken: it patches `fs` through graceful-fs, which read-only commands need not pay for. */
export async function importLockfile(): Promise<typeof import("proper-lockfile")> {
  return load("proper-lockfile", "lock", () => import("proper-lockfile"));
}
