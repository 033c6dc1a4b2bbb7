import { test } from "uvu";
import * as assert from "uvu/assert";
import { stopGraces } from "../../src/core/compose/stop-grace.ts";

test("services that ask for time to stop, grouped by seconds; the label wins over stop_grace_period", () => {
  const model = {
    services: {
      web: {},
      db: { stop_grace_period: "30s" },
      queue: { stop_grace_period: "1m30s", labels: { "cilo.stop-timeout": "5" } },
      cache: { labels: ["cilo.stop-timeout=1.2s"] },
      worker: { stop_grace_period: "30s" },
      now: { labels: { "cilo.stop-timeout": "0" } },
    },
  };
  assert.equal(
    [...stopGraces(model)],
    [
      [2, ["cache"]],
      [30, ["db", "worker"]],
      [5, ["queue"]],
    ],
  );
});

test("an unreadable grace counts as compose's default 10 s; no services, nothing", () => {
  assert.equal([...stopGraces({ services: { db: { labels: { "cilo.stop-timeout": "ten" } } } })], [[10, ["db"]]]);
  assert.equal([...stopGraces({})], []);
  assert.equal([...stopGraces(null)], []);
});

test.run();
