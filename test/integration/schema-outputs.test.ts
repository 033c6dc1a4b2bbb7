// The JSON cilo prints holds to the schemas it ships (schema/, docs/config.md): the built CLI runs
// create, up, status, list, doctor and a workflow with --json on a small project against the real
// engine, and each output is validated with ajv. The schemas do not allow keys they do not name,
// so a field added to an output without its schema fails here.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";

const home = tempDir("cilo-schemaout-");
const dir = tempDir("cilo-schemaout-src-");
const project = `schemaout-${Math.random().toString(36).slice(2, 7)}`;
const envRef = `${project}/e1`;
const ajv = new Ajv({ allowUnionTypes: true, allErrors: true });
const schemaOf = (name: string): ValidateFunction => ajv.compile(JSON.parse(readFileSync(join(repoRoot, "schema", `cilo.${name}.schema.json`), "utf8")));

function holds(name: string, value: unknown): void {
  const check = schemaOf(name);
  assert.ok(check(value), `cilo.${name}.schema.json: ${ajv.errorsText(check.errors)}\n${JSON.stringify(value, null, 2)}`);
}

function json(args: string[], codes = [0]): unknown {
  const r = cilo(args, { home, cwd: dir });
  assert.ok(codes.includes(r.code), `cilo ${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

test.before(async () => {
  mkdirSync(join(dir, ".cilo"));
  writeFileSync(join(dir, ".cilo/config.yml"), `project: ${project}\ningress: web\nhostnames:\n  worker: [jobs]\n`);
  const service = '    image: cilo-test/busybox:latest\n    command: ["sh", "-c", "exec sleep 3600"]\n    stop_signal: SIGKILL\n';
  writeFileSync(join(dir, "compose.yml"), `services:\n  web:\n${service}  worker:\n${service}`);
  writeFileSync(
    join(dir, "wf.yaml"),
    [
      "version: 1",
      "name: schemaout",
      "steps:",
      "  - id: make",
      '    run: echo "word=hi" >> "$CILO_OUTPUT"; echo out; echo err >&2',
      "  - run: test -f marker || { touch marker; exit 1; }",
      "    retry: { count: 2, backoff: 10ms }",
      '  - if: "false"',
      "    run: echo never",
      "  - parallel:",
      "      - run: echo a",
      "      - run: exit 4",
      "        continue_on_error: true",
      "",
    ].join("\n"),
  );
  const r = cilo(["init", "--dns-port", String(await freePort())], { home });
  assert.is(r.code, 0, r.stderr);
});

test.after(() => {
  cilo(["destroy", envRef, "--force"], { home });
  cilo(["dns", "stop"], { home });
  removeDir(home);
  removeDir(dir);
});

test("every output schema compiles with ajv's strict checks", () => {
  for (const f of readdirSync(join(repoRoot, "schema"))) {
    assert.not.throws(
      () => new Ajv({ allowUnionTypes: true, logger: false }).addKeyword("errorMessage").compile(JSON.parse(readFileSync(join(repoRoot, "schema", f), "utf8"))),
      f,
    );
  }
});

test("cilo create --json and cilo up --json print an env record (cilo.env.schema.json)", () => {
  const created = json(["create", "e1", "--json"]) as { status: string };
  holds("env", created);
  assert.is(created.status, "created");
  const up = json(["up", "e1", "--wait", "--json"]) as { status: string; services: { ip?: string }[] };
  holds("env", up);
  assert.is(up.status, "running");
  assert.ok(
    up.services.every((s) => s.ip),
    JSON.stringify(up.services),
  );
});

test("cilo status --json (cilo.status.schema.json)", () => {
  const view = json(["status", "e1", "--json"]) as { services: { dns: string[] }[] };
  holds("status", view);
  assert.is(view.services.length, 2);
});

test("cilo list --json (cilo.list.schema.json)", () => {
  const list = json(["list", "--json"]) as { project: string }[];
  holds("list", list);
  assert.equal(
    list.map((e) => e.project),
    [project],
  );
});

test("cilo doctor --json (cilo.doctor.schema.json)", () => {
  holds("doctor", json(["doctor", "--json"], [0, 1]));
});

test("cilo run --json: every NDJSON line is an event of cilo.run-event.schema.json", () => {
  const r = cilo(["run", "wf.yaml", "--json"], { home, cwd: dir });
  assert.is(r.code, 0, r.stderr);
  const events = r.stdout
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string });
  for (const e of events) holds("run-event", e);
  assert.equal([...new Set(events.map((e) => e.type))].sort(), ["step_end", "step_output", "step_retry", "step_start", "workflow_end", "workflow_start"]);
  assert.not.ok(schemaOf("run-event")({ type: "step_end", ts: "2026-01-01T00:00:00Z" }), "an event without its fields is refused");
});

test("dist/ validates workflows with the generated validator: ajv's compiler is not in the bundle", () => {
  const files = readdirSync(join(repoRoot, "dist/chunks")).map((f) => readFileSync(join(repoRoot, "dist/chunks", f), "utf8"));
  assert.ok(
    files.some((t) => t.includes("a mapping with version: 1 and steps")),
    "the generated validator (with the schema's errorMessage) is bundled",
  );
  assert.not.ok(
    files.some((t) => t.includes("strictSchema")),
    "ajv's compiler (its strictSchema option) is bundled",
  );
});

test.run();
