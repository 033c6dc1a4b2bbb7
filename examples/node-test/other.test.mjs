import assert from "node:assert/strict";
import { test } from "node:test";
import { status } from "cilo";
import { useEnv } from "./cilo-env.mjs";

// A second file gets an env of its own, running beside the first one's.
const env = useEnv(import.meta.url);

test("each test file has its own env", async () => {
  const live = await status({ ref: `${env().project}/${env().name}` });
  assert.match(live.name, /^other-/);
  assert.equal(live.services[0].state, "running");
});
