import { test } from "uvu";
import * as assert from "uvu/assert";
import { CiloError } from "../../src/core/errors.ts";
import { parseDuration } from "../../src/workflow/duration.ts";

test("units and combinations", () => {
  assert.is(parseDuration("500ms"), 500);
  assert.is(parseDuration("45s"), 45_000);
  assert.is(parseDuration("2m"), 120_000);
  assert.is(parseDuration("1h30m"), 5_400_000);
  assert.is(parseDuration("1h0m5s"), 3_605_000);
  assert.is(parseDuration("1m30s250ms"), 90_250);
  assert.is(parseDuration("7d"), 604_800_000);
  assert.is(parseDuration("0s"), 0);
  assert.is(parseDuration(" 10s "), 10_000);
  // The one grammar (src/core/duration.ts) the CLI already read: decimals, bare seconds, any order, weeks.
  assert.is(parseDuration("30"), 30_000);
  assert.is(parseDuration("1.5s"), 1_500);
  assert.is(parseDuration("30s1m"), 90_000);
  assert.is(parseDuration("1h1h"), 7_200_000);
  assert.is(parseDuration("2w"), 1_209_600_000);
});

test("a number counts seconds", () => {
  assert.is(parseDuration(30), 30_000);
  assert.is(parseDuration(0), 0);
  assert.is(parseDuration(1.5), 1_500);
});

test("anything else is refused with exit 2 and an example", () => {
  for (const bad of ["5 minutes", "", "s", "m5", "-5s", "1H", "2 m", "10sec"]) {
    try {
      parseDuration(bad);
      assert.unreachable(`"${bad}" was accepted`);
    } catch (e) {
      assert.instance(e, CiloError, bad);
      assert.is((e as CiloError).code, "E_DURATION_INVALID");
      assert.is((e as CiloError).exitCode, 2);
      assert.match((e as Error).message, /expected a duration like 30s, 2m, 1h30m/);
    }
  }
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => parseDuration(bad), /is not valid/);
});

test.run();
