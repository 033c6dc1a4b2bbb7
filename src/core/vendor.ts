/**
 * Lazy entry points for third-party CommonJS packages. A bundled dynamic import of a CommonJS
 * module only has `default`; under Node, Deno and tsx it also has the named exports. These
 * helpers give the module object either way.
 */
function unwrap<T>(m: any, probe: string): T {
  return (m && typeof m[probe] === "function" ? m : m?.default) as T;
}

export async function importYaml(): Promise<typeof import("yaml")> {
  return unwrap(await import("yaml"), "parse");
}

export async function importJsonc(): Promise<typeof import("jsonc-parser")> {
  return unwrap(await import("jsonc-parser"), "parse");
}

/** proper-lockfile, loaded when a lock is taken: it patches `fs` through graceful-fs, which read-only commands need not pay for. */
export async function importLockfile(): Promise<typeof import("proper-lockfile")> {
  return unwrap(await import("proper-lockfile"), "lock");
}
