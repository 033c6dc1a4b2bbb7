import assert from "node:assert/strict";
import { test } from "node:test";
import { runInEnv } from "cilo";
import { useEnv } from "./cilo-env.mjs";

const env = useEnv(import.meta.url);

test("the env is running, with the web service healthy", () => {
  const web = env().services.find((s) => s.name === "web");
  assert.equal(env().status, "running");
  assert.equal(web.state, "running");
  assert.equal(web.health, "healthy");
});

test("the web service answers on its IP", async () => {
  const web = env().services.find((s) => s.name === "web");
  const res = await fetch(`http://${web.ip}/`);
  assert.equal((await res.text()).trim(), "hello from cilo");
});

test("a command runs in the env's workspace with CILO_* set", async () => {
  const r = await runInEnv({ ref: `${env().project}/${env().name}`, command: 'echo "$CILO_ENV"; cat www/index.html' });
  assert.equal(r.exit_code, 0, r.stderr);
  assert.equal(r.stdout, `${env().name}\nhello from cilo\n`);
});
