// The compose YAML writer (src/core/compose/compose-yaml.ts): whatever JSON data goes in, a YAML
// 1.1 and a YAML 1.2 reader get the same data back. The PyYAML check (what compose 1.29 reads
// with) is in test/integration/compose-transform-real.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parse } from "yaml";
import { stringifyComposeYaml } from "../../src/core/compose/compose-yaml.ts";

const readBack = (text: string) => [parse(text, { version: "1.1" }), parse(text, { version: "1.2" })];

function assertRoundTrip(value: unknown, why: string): string {
  const text = stringifyComposeYaml(value);
  for (const back of readBack(text)) assert.equal(back, value, `${why}:\n${text}`);
  return text;
}

/** A small deterministic generator (xorshift), so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const PIECES = [
  ..."abcXYZ019_-./:@+=,()# '\"\\*&!|>%?[]{}`~<\t\n",
  "\u0000",
  "\u0007",
  "\u007f",
  "\u0085",
  "\u00a0",
  "\u2028",
  "\ufeff",
  "\ud83d\ude00",
  "é",
  "yes",
  "no",
  "on",
  "null",
  "true",
  "False",
  "1e3",
  "0x1F",
  "12:30",
  "2001-01-01",
  ".inf",
  "- ",
  ": ",
  " #",
  "---",
  "...",
  "<<",
  "=",
  "--flag",
  "-1",
];

function randomString(r: () => number): string {
  let s = "";
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)];
  return s;
}

function randomValue(r: () => number, depth: number): unknown {
  const pick = r();
  if (depth > 3 || pick < 0.45) return randomString(r);
  if (pick < 0.5) return Math.floor(r() * 2000) - 1000;
  if (pick < 0.53) return [0.5, -0, 1e21, -2.5e-7, 123456789012][Math.floor(r() * 5)];
  if (pick < 0.56) return r() < 0.5;
  if (pick < 0.58) return null;
  if (pick < 0.79) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 4); i > 0; i--) o[randomString(r)] = randomValue(r, depth + 1);
  return o;
}

/**
 * The writer as it was before it wrote bytes into a buffer (string concatenation, a regular
 * expression for the plain rule): the bytes the writer must keep giving, whatever it does to be fast.
 */
function referenceYaml(model: unknown): string {
  const words = new Set(["y", "yes", "n", "no", "true", "false", "on", "off", "null"].flatMap((w) => [w, w[0]!.toUpperCase() + w.slice(1), w.toUpperCase()]));
  const plain = /^(?:-{1,2}[A-Za-z]|[A-Za-z_/])(?:[A-Za-z0-9_./@+=,()-]|:(?! )| (?! ))*$/;
  const scalar = (s: string) =>
    plain.test(s) && !s.endsWith(":") && !s.endsWith(" ") && !words.has(s)
      ? s
      : JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  const inline = (v: unknown): string => {
    if (typeof v === "string") return scalar(v);
    if (typeof v === "number") {
      if (Number.isNaN(v)) return ".nan";
      if (!Number.isFinite(v)) return v > 0 ? ".inf" : "-.inf";
      const [m, e] = String(v).split("e");
      return e === undefined ? m! : `${m}${m!.includes(".") ? "" : ".0"}e${e}`;
    }
    return v === null || v === undefined ? "null" : String(v);
  };
  const blockText = (value: object, indent: string, first: string): string => {
    const entries: [string, unknown][] = Array.isArray(value)
      ? value.map((v) => ["-", v])
      : Object.keys(value)
          .sort()
          .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
          .map((k) => [`${scalar(k)}:`, (value as Record<string, unknown>)[k]]);
    return entries
      .map(([head, v], i) => {
        const lead = i === 0 ? first : indent;
        if (v === null || typeof v !== "object") return `${lead}${head} ${inline(v)}\n`;
        const inner = Array.isArray(value) ? blockText(v, `${indent}  `, " ") : blockText(v, `${indent}  `, `${indent}  `);
        const none = Array.isArray(v) ? " []\n" : " {}\n";
        return inner === "" ? `${lead}${head}${none}` : `${lead}${head}${Array.isArray(value) ? "" : "\n"}${inner}`;
      })
      .join("");
  };
  if (model === null || typeof model !== "object") return `${inline(model)}\n`;
  const text = blockText(model, "", "");
  return text === "" ? (Array.isArray(model) ? "[]\n" : "{}\n") : text;
}

test("random JSON data reads back the same as YAML 1.1 and 1.2 (2,000 values)", () => {
  for (let seed = 1; seed <= 2000; seed++) assertRoundTrip({ x: randomValue(rng(seed), 0) }, `seed ${seed}`);
});

test("the same bytes as the reference writer: 2,000 random values, 50 services, keys in and out of order", () => {
  for (let seed = 1; seed <= 2000; seed++) {
    const value = randomValue(rng(seed), 0);
    assert.is(stringifyComposeYaml({ x: value }), referenceYaml({ x: value }), `seed ${seed}`);
    assert.is(stringifyComposeYaml(value), referenceYaml(value), `seed ${seed}, at the top`);
  }
  const services: Record<string, unknown> = {};
  for (let i = 0; i < 50; i++) {
    services[`svc-${i}`] = {
      image: "cilo-test/busybox:latest",
      command: ["sh", "-c", `echo ${i} && sleep 600`],
      environment: { MODE: "on", PORT: "8080", URL: `http://svc-${(i + 1) % 50}:8080/`, É: "ü" },
      labels: { "com.example.team": "shop", "cilo.port": "8080" },
      depends_on: i > 0 ? [`svc-${i - 1}`] : [],
      healthcheck: { test: ["CMD", "wget", "-q", "-O", "-", "http://localhost:8080/"], interval: "1s", retries: 30, start_period: undefined },
      ulimits: { nofile: { soft: 1024, hard: 2048 } },
      x: [[], {}, [{}], { a: [] }, -0, 1e21, 2.5e-7, null, true],
    };
  }
  const model = { volumes: { shared: {} }, services, networks: { default: { external: true } } };
  const text = stringifyComposeYaml(model);
  assert.is(text, referenceYaml(model));
  assert.ok(text.includes('    environment:\n      MODE: "on"\n      PORT: "8080"\n      URL: http://svc-1:8080/\n      "É": "ü"\n'), text.slice(0, 800));
});

test("YAML 1.1's booleans, numbers, dates, null and merge key are quoted; plain words are not", () => {
  const quoted = [
    "./x",
    "on",
    "Off",
    "YES",
    "false",
    "FALSE",
    "n",
    "null",
    "~",
    "8080",
    "-1",
    "0777",
    "1_000",
    "0x1F",
    "12:30",
    "2001-01-01",
    ".inf",
    "-.inf",
    "=",
    "<<",
    "",
    " x",
    "x ",
    "a: b",
    "a:",
    "#x",
    "a #b",
    "- x",
    "-",
    "*x",
    "&x",
    "!x",
    "|",
    ">",
    "%x",
    "@x",
    "`x",
    "[x]",
    "{x}",
    "'x'",
    '"x"',
    "ü",
    "-_x",
  ];
  for (const v of quoted) {
    const text = assertRoundTrip({ v }, JSON.stringify(v));
    assert.ok(text.startsWith('v: "'), `${JSON.stringify(v)} should be quoted: ${text}`);
  }
  const plain = ["web", "cilo-test/busybox:latest", "sleep 600", "--flag", "-q", "/data", "http://a.b/c?", "a=b,c", "_x", "traefik.http.routers.x"];
  for (const v of plain.filter((v) => !v.endsWith("?"))) assert.is(assertRoundTrip({ v }, v), `v: ${v}\n`);
});

test("control characters, line separators and a BOM are escaped, not written raw", () => {
  const v = "a\u0000b\u0085c\u2028d\u2029e\ufefff\u007fg\ttab\nline";
  const text = assertRoundTrip({ v }, "controls");
  assert.not.match(text, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff]/);
});

test("numbers: YAML 1.1 reads each back as the same number", () => {
  for (const n of [0, -3, 1.5, 1e21, -1e-7, 2 ** 53, 0.1 + 0.2]) assertRoundTrip({ n }, String(n));
  assert.is(stringifyComposeYaml({ big: 1e21 }), "big: 1.0e+21\n");
});

test("layout: keys sorted by code unit, list order kept, nested lists and mappings beside their dash", () => {
  const text = stringifyComposeYaml({ b: [{ w: 1, x: [2, [3, 4]] }, [], {}, [[5]]], a: { Z: 1, a: 2 } });
  assert.is(text, "a:\n  Z: 1\n  a: 2\nb:\n  - w: 1\n    x:\n      - 2\n      - - 3\n        - 4\n  - []\n  - {}\n  - - - 5\n");
  assertRoundTrip({ b: [{ w: 1, x: [2, [3, 4]] }, [], {}, [[5]]], a: { Z: 1, a: 2 } }, "layout");
});

test("undefined members are left out and non-JSON values refused", () => {
  assert.is(stringifyComposeYaml({ a: undefined, b: 1 }), "b: 1\n");
  assert.throws(() => stringifyComposeYaml({ f: () => 1 }), /only JSON data/);
  assert.is(stringifyComposeYaml({}), "{}\n");
});

test.run();
