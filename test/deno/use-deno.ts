import { join } from "node:path";
import { repoRoot } from "../helpers/cli.ts";

/**
 * The Deno binary: `CILO_DENO`, else the one running this file (under `deno task test`), else the
 * one scripts/install-deno.sh put in .tools/deno (scripts/test-env.sh runs it).
 */
export function denoBinary(): string {
  return process.env["CILO_DENO"] ?? ("Deno" in globalThis ? process.execPath : join(repoRoot, ".tools/deno/node_modules/.bin/deno"));
}

/** Makes the helpers of test/helpers/cli.ts run cilo from source under Deno: `deno run -A src/main.ts`. */
export function useDeno(): void {
  process.env["CILO_TEST_CMD"] = `${denoBinary()} run -A ${join(repoRoot, "src/main.ts")}`;
}
