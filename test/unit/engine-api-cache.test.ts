import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cachedApiVersion, rememberApiVersion } from "../../src/core/env/engine-api-cache.ts";
import { testContext } from "../helpers/context.ts";

const A = "unix:///var/run/docker.sock";
const B = "tcp://10.0.0.2:2375";

function home(): string {
  const h = mkdtempSync(join(tmpdir(), "cilo-api-cache-"));
  mkdirSync(join(h, "cache"));
  return h;
}

test("remembers each endpoint's API version; an engine that answers otherwise replaces its own entry only", () => {
  const h = home();
  try {
    const ctx = testContext({ home: h });
    assert.is(cachedApiVersion(ctx, A), undefined);
    rememberApiVersion(ctx, A, "1.41");
    rememberApiVersion(ctx, B, "1.40");
    rememberApiVersion(ctx, A, "1.43");
    assert.is(cachedApiVersion(ctx, A), "1.43");
    assert.is(cachedApiVersion(ctx, B), "1.40");
  } finally {
    rmSync(h, { recursive: true, force: true });
  }
});

test("only what COMPOSE_API_VERSION may carry is kept or read back: a damaged or hand-edited file is a miss", () => {
  const h = home();
  try {
    const ctx = testContext({ home: h });
    rememberApiVersion(ctx, A, "2.0; rm -rf /");
    assert.is(cachedApiVersion(ctx, A), undefined);
    writeFileSync(join(h, "cache", "engine-api.json"), JSON.stringify({ [A]: "1.41\nX=1", [B]: 1.4 }));
    assert.is(cachedApiVersion(ctx, A), undefined);
    assert.is(cachedApiVersion(ctx, B), undefined);
    writeFileSync(join(h, "cache", "engine-api.json"), "{not json");
    assert.is(cachedApiVersion(ctx, A), undefined);
    rememberApiVersion(ctx, A, "1.41");
    assert.equal(JSON.parse(readFileSync(join(h, "cache", "engine-api.json"), "utf8")), { [A]: "1.41" });
  } finally {
    rmSync(h, { recursive: true, force: true });
  }
});

test.run();
