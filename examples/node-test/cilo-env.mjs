// One cilo env per test file: `const env = useEnv(import.meta.url)` in a node:test file creates
// and starts an env of ./app before the file's tests (waiting until it is healthy) and destroys it
// after them, whether they passed or not. `env()` gives the env object (docs/json.md) inside tests.
// It is `ephemeral`: if the test process dies without its `after` hook, cilo's reaper destroys it.
import { after, before } from "node:test";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { createEnv, destroyEnv, upEnv } from "cilo";

const app = fileURLToPath(new URL("./app/", import.meta.url));

export function useEnv(testFile, { project = "nodetest", timeoutMs = 120_000 } = {}) {
  // An env name is a DNS label: the test file's name and this process's id.
  const file = basename(fileURLToPath(testFile)).replace(/\.test\.[cm]?[jt]s$/, "");
  const name = `${file}-${process.pid}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-").slice(0, 63);
  const ref = `${project}/${name}`;
  let env;
  before(async () => {
    const signal = AbortSignal.timeout(timeoutMs);
    await createEnv({ name, project, from: app, ephemeral: true, signal });
    env = await upEnv({ ref, wait: true, timeoutMs, signal });
  });
  after(async () => {
    await destroyEnv({ ref });
  });
  return () => {
    if (!env) throw new Error(`the env ${ref} is not up (its before hook failed)`);
    return env;
  };
}
