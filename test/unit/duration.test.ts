import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { DURATION_PATTERN, durationMs } from "../../src/core/duration.ts";
import { parseDurationMs } from "../../src/cli/duration.ts";
import { parseAge } from "../../src/cli/commands/gc.ts";
import { parseDuration } from "../../src/workflow/duration.ts";

// The three parsers cilo had before there was one grammar, copied as they were: everything one of
// them accepted must still be accepted, with the same value.
function oldCli(text: string): number | undefined {
  const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNIT[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos !== s.length || s.length === 0) return undefined;
  return Math.round(total);
}
function oldWorkflow(text: string): number | undefined {
  const match = /^(?=\d)(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$/.exec(text.trim());
  if (!match) return undefined;
  return [86_400_000, 3_600_000, 60_000, 1_000, 1].reduce((t, unit, i) => t + unit * Number.parseInt(match[i + 1] ?? "0", 10), 0);
}
function oldGc(text: string): number | undefined {
  const s = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/.test(s)) return undefined;
  return oldCli(s.replace(/(\d+(?:\.\d+)?)([dw])/g, (_, n: string, unit: string) => `${Number(n) * (unit === "w" ? 168 : 24)}h`));
}

const DAY = 86_400_000;
const ACCEPTED: [string, number][] = [
  ["0", 0],
  ["30", 30_000],
  ["1.5", 1_500],
  ["0s", 0],
  ["500ms", 500],
  ["45s", 45_000],
  ["1.5s", 1_500],
  ["2m", 120_000],
  ["1.5m", 90_000],
  ["1h", 3_600_000],
  ["1h30m", 5_400_000],
  ["1h0m5s", 3_605_000],
  ["1m30s250ms", 90_250],
  ["30s1m", 90_000],
  ["1h1h", 7_200_000],
  ["1d", DAY],
  ["7d", 7 * DAY],
  ["0.5d", DAY / 2],
  ["1d12h", 1.5 * DAY],
  ["2w", 14 * DAY],
  ["1w2d", 9 * DAY],
  ["0.001s", 1],
  [" 10s ", 10_000],
  ["\t2m\n", 120_000],
];
const REFUSED = [
  "",
  " ",
  "s",
  "ms",
  "m5",
  "5 minutes",
  "2 m",
  "10sec",
  "1H",
  "-5s",
  "+5s",
  ".5s",
  "5.s",
  "1e3",
  "1.2.3s",
  "5x",
  "d",
  "7 days",
  "soon",
  "1h 30m",
  "5mss",
  "0x10",
];

test("the grammar: numbers of seconds and unit parts, in any order, added up", () => {
  for (const [text, ms] of ACCEPTED) assert.is(durationMs(text), ms, JSON.stringify(text));
  for (const text of REFUSED) assert.is(durationMs(text), undefined, JSON.stringify(text));
});

test("nothing one of the old parsers accepted stops working, nor changes value", () => {
  const samples = [...ACCEPTED.map(([t]) => t), ...REFUSED, "90m", "12h", "1h30m45s500ms", "2d3h", "1.25h", "100ms", "3w", "0.5w", "1d1d", "5ms5s"];
  for (const text of samples) {
    for (const [name, old] of [
      ["cli", oldCli],
      ["workflow", oldWorkflow],
      ["gc", oldGc],
    ] as const) {
      const before = old(text);
      if (before !== undefined) assert.is(durationMs(text), before, `${name} ${JSON.stringify(text)}`);
    }
  }
});

test("the workflow schema's duration pattern is the grammar, and agrees with the parser", () => {
  const schema = JSON.parse(readFileSync(new URL("../../schema/cilo.workflow.schema.json", import.meta.url), "utf8"));
  const branches = schema.definitions.duration.anyOf as { pattern?: string }[];
  const pattern = branches.find((b) => b.pattern)!.pattern!;
  assert.is(pattern, DURATION_PATTERN);
  const re = new RegExp(pattern, "u"); // as ajv compiles it
  for (const text of [...ACCEPTED.map(([t]) => t), ...REFUSED]) {
    if (text.trim() !== text) continue; // the parser ignores surrounding blanks; the schema does not
    assert.is(re.test(text), durationMs(text) !== undefined, JSON.stringify(text));
  }
});

test("each caller reads the same grammar and keeps its own message", () => {
  assert.is(parseDurationMs("1d", "--timeout"), DAY);
  assert.is(parseDurationMs("1.5m", "--timeout"), 90_000);
  assert.is(parseDuration("1.5m"), 90_000);
  assert.is(parseDuration("2w"), 14 * DAY);
  assert.is(parseDuration(1.5), 1_500);
  assert.is(parseAge("2w"), 14 * DAY);
  assert.is(parseAge("1.5m"), 90_000);
  assert.throws(() => parseDurationMs("soon", "--timeout"), /--timeout "soon" is not a duration such as 30s, 2m or 1h30m/);
  assert.throws(() => parseDuration("soon"), /The duration "soon" is not valid; expected a duration like 30s/);
  assert.throws(() => parseAge("soon"), /--older-than "soon" is not a duration such as 7d, 12h or 30m/);
  // --older-than wants a unit: a bare "7" could mean seconds or days, and gc destroys envs.
  assert.throws(() => parseAge("7"), /is not a duration/);
});

test.run();
