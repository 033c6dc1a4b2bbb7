// The JSON cilo prints holds to the schemas it ships (schema/, docs/json.md): the built CLI runs
// init, create, up, status, list, path, run <cmd>, down, destroy, gc, doctor and a workflow with
// --json on a small project against the real engine, and each output is validated with ajv. The
// schemas do not allow keys they do not name, so a field added to an output without its schema
// fails here; and every schema under schema/ must be used by a test below.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import { schemaAjv, schemaFiles, shippedSchema } from "../helpers/schemas.ts";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";

const home = tempDir("cilo-schemaout-");
const dir = tempDir("cilo-schemaout-src-");
const project = `schemaout-${Math.random().toString(36).slice(2, 7)}`;
const envRef = `${project}/e1`;
const ajv = schemaAjv;
const schemas = new Map(schemaFiles.map((f) => [f, JSON.parse(readFileSync(join(repoRoot, "schema", f), "utf8")) as { $id: string }]));
const used = new Set<string>();
const schemaOf = (name: string): ValidateFunction => {
  used.add(`cilo.${name.split("#")[0]}.schema.json`);
  return shippedSchema(name);
};

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
  // web keeps a named volume (snapshots); cache is shared between the project's envs (cilo shared).
  writeFileSync(
    join(dir, "compose.yml"),
    `services:\n  web:\n${service}    volumes: ["data:/data"]\n  worker:\n${service}  cache:\n${service}    labels: { cilo.share: "true" }\nvolumes:\n  data: {}\n`,
  );
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
  const r = cilo(["init", "--dns-port", String(await freePort()), "--json"], { home });
  assert.is(r.code, 0, r.stderr);
  holds("init", JSON.parse(r.stdout));
});

test.after(() => {
  cilo(["destroy", envRef, "--force"], { home });
  cilo(["shared", "down", "cache", "--force"], { home, cwd: dir });
  cilo(["dns", "stop"], { home });
  removeDir(home);
  removeDir(dir);
});

test("every schema compiles with ajv's strict checks and has a unique $id under https://cilo.dev/schema/ naming its file", () => {
  for (const [f, schema] of schemas) {
    assert.not.throws(
      () =>
        new Ajv({ allowUnionTypes: true, logger: false })
          .addKeyword("errorMessage")
          .addSchema([...schemas.values()].filter((s) => s !== schema))
          .compile(schema),
      f,
    );
    assert.is(schema.$id, `https://cilo.dev/schema/${f}`);
  }
});

type Env = { schema_version: number; status: string; workspace: string; services: { name: string; state?: string; ip: string | null }[] };

test("create, up, status, list, path and down --json print the one env object (cilo.env.schema.json)", () => {
  const created = json(["create", "e1", "--json"]) as Env;
  holds("env", created);
  assert.is(created.schema_version, 1);
  assert.is(created.status, "created");
  const up = json(["up", "e1", "--wait", "--json"]) as Env;
  holds("env", up);
  assert.is(up.status, "running");
  assert.ok(
    up.services.every((s) => s.ip && s.state === "running"),
    JSON.stringify(up.services),
  );
  const status = json(["status", "e1", "--json"]) as Env;
  holds("env", status);
  assert.equal(
    status.services.map((s) => s.name),
    ["cache", "web", "worker"],
  );
  assert.equal(Object.keys(status).sort(), Object.keys(up).sort(), "status and up give the same fields");
  const list = json(["list", "--json"]) as Env[];
  holds("list", list);
  assert.is(list.length, 1);
  assert.ok(
    list[0]!.services.every((s) => s.state === undefined && s.ip),
    "list: no live state, the IPs recorded at up",
  );
  const path = json(["path", "e1", "--json"]) as Env;
  holds("env", path);
  assert.is(path.workspace, created.workspace);
});

test("cilo run <command> <env> --json: the result on stdout (cilo.run-result.schema.json), the command's output on stderr", () => {
  const r = cilo(["run", "echo to-stdout; echo to-stderr >&2; exit 3", envRef, "--json"], { home, cwd: dir });
  assert.is(r.code, 3, r.stderr);
  const result = JSON.parse(r.stdout) as { exit_code: number; command: string };
  holds("run-result", result);
  assert.is(result.exit_code, 3);
  assert.match(r.stderr, /to-stdout\n/);
  assert.match(r.stderr, /to-stderr\n/);
});

test("dns, trust, hostnames, shared, snapshot, workflow and config --json: each action's output holds to its definition in the command's schema", () => {
  holds("dns#status", json(["dns", "status", "--json"]));
  holds("dns#start", json(["dns", "start", "--json"]));
  holds("dns#render", json(["dns", "render", "--json"]));
  const stopped = json(["dns", "stop", "--json"]) as { stopped: boolean; processes: { role: string; recorded: boolean }[] };
  holds("dns#stop", stopped);
  assert.is(stopped.stopped, true);
  assert.equal(
    stopped.processes.map((p) => [p.role, p.recorded]),
    [
      ["front", true],
      ["wildcards", true],
    ],
    "the front and the wildcard instance of the env's ingress, both recorded",
  );
  holds("dns#start", json(["dns", "start", "--json"]));
  // A fake root with systemd-resolved's stub and Debian's CA folder: setup, trust and teardown write there.
  const root = tempDir("cilo-schemaout-root-");
  try {
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(join(root, "etc/resolv.conf"), "nameserver 127.0.0.53\n");
    mkdirSync(join(root, "usr/local/share/ca-certificates"), { recursive: true });
    holds("dns#setup", json(["dns", "setup", "--root", root, "--json"]));
    holds("dns#setup", json(["dns", "setup", "--print-manual", "--json"]));
    holds("trust#install", json(["trust", "--root", root, "--json"]));
    holds("trust#print", json(["trust", "--print", "--json"]));
    holds("dns#teardown", json(["dns", "teardown", "--root", root, "--dry-run", "--json"]));
    const untrusted = json(["trust", "--uninstall", "--root", root, "--json"]) as { removed: string[] };
    holds("trust#uninstall", untrusted);
    assert.is(untrusted.removed.length, 1, "the anchor trust wrote");
    const torn = json(["dns", "teardown", "--root", root, "--json"]) as { removed: string[] };
    holds("dns#teardown", torn);
    assert.is(torn.removed.length, 1, "the resolver file setup wrote");
  } finally {
    removeDir(root);
  }

  holds("hostnames#list", json(["hostnames", "list", envRef, "--json"]));
  const added = json(["hostnames", "add", envRef, "web", "extra", "--json"]) as { dns: string[] };
  holds("hostnames#change", added);
  assert.equal(added.dns, ["extra.e1.test"]);
  holds("hostnames#change", json(["hostnames", "remove", envRef, "web", "extra", "--json"]));

  const shared = json(["shared", "list", "--json"]) as { services: { service: string; users: string[] }[] };
  holds("shared#list", shared);
  assert.equal(
    shared.services.map((s) => [s.service, s.users]),
    [["cache", ["e1"]]],
  );
  const sharedDown = json(["shared", "down", "cache", "--force", "--json"]);
  holds("shared#down", sharedDown);
  assert.equal(sharedDown, { schema_version: 1, project, service: "cache", stopped: true, detached: ["e1"] });

  const snap = `so-${Math.random().toString(36).slice(2, 7)}`;
  const manifest = json(["snapshot", "create", envRef, "--name", snap, "--json"]) as { volumes: { key: string }[] };
  holds("snapshot#manifest", manifest);
  assert.equal(
    manifest.volumes.map((v) => v.key),
    ["data"],
  );
  holds("snapshot#list", json(["snapshot", "list", "--json"]));
  holds("snapshot#restore", json(["snapshot", "restore", envRef, snap, "--stop", "--json"]));
  const removed = json(["snapshot", "rm", snap, "--json"]);
  holds("snapshot#rm", removed);
  assert.equal(removed, { schema_version: 1, name: snap, removed: true });

  holds("workflow-command#templates", json(["workflow", "list-templates", "--json"]));
  const wf = join(dir, "made.workflow.yaml");
  holds("workflow-command#new", json(["workflow", "new", "--output", wf, "--json"]));
  holds("workflow-command#validate", json(["workflow", "validate", wf, "--json"]));
  writeFileSync(join(dir, "bad.workflow.yaml"), "version: 1\nsteps:\n  - run: echo\n    retries: 2\n");
  const bad = json(["workflow", "validate", join(dir, "bad.workflow.yaml"), "--json"], [2]) as { valid: boolean; issues: unknown[] };
  holds("workflow-command#validate", bad);
  assert.is(bad.valid, false);
  assert.ok(bad.issues.length > 0);

  const cfgDir = tempDir("cilo-schemaout-cfg-");
  try {
    holds("config-new#new", json(["config", "new", "--dir", cfgDir, "--json"]));
  } finally {
    removeDir(cfgDir);
  }
});

test("cilo down --json gives the env object; destroy --json what it removed (cilo.destroy.schema.json)", () => {
  const down = json(["down", "e1", "--json"]) as Env;
  holds("env", down);
  assert.is(down.status, "stopped");
  const gone = json(["destroy", "e1", "--force", "--json"]);
  holds("destroy", gone);
  assert.equal(gone, { schema_version: 1, ref: "e1", destroyed: true, project, name: "e1", workspace_kept: false });
  const missing = json(["destroy", "e1", "--force", "--json"]);
  holds("destroy", missing);
  assert.equal(missing, { schema_version: 1, ref: "e1", destroyed: false });
});

test("cilo gc --json (cilo.gc.schema.json)", () => {
  holds("gc", json(["gc", "--older-than", "1d", "--dry-run", "--json"]));
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

test("cilo host list --json: hosts of cilo.host-list.schema.json", () => {
  holds("host-list", [json(["host", "add", "sch-h1", "tcp://192.0.2.1:2376", "--no-check", "--json"])]);
  const hosts = json(["host", "list", "--json"]) as { name: string }[];
  holds("host-list", hosts);
  assert.equal(
    hosts.map((h) => h.name),
    ["sch-h1"],
  );
  json(["host", "rm", "sch-h1", "--json"]);
});

test("every schema under schema/ is one a test here validates real output against (or the config, workflow and MCP files')", () => {
  assert.equal(
    // config and workflow: input files (their own tests); mcp: every tool result is validated
    // against it by the SDK client in test/integration/mcp.test.ts; host-check needs a remote
    // engine: test/integration/host.test.ts validates real output against it.
    schemaFiles.filter(
      (f) => !used.has(f) && !["cilo.config.schema.json", "cilo.workflow.schema.json", "cilo.mcp.schema.json", "cilo.host-check.schema.json"].includes(f),
    ),
    [],
  );
});

test("dist/ validates workflows with the generated validator: ajv's compiler is not in what that loads", () => {
  const dir = join(repoRoot, "dist/chunks");
  const text = (f: string) => readFileSync(join(dir, f), "utf8");
  const validator = readdirSync(dir).filter((f) => text(f).includes("a mapping with version: 1 and steps"));
  assert.ok(validator.length > 0, "the generated validator (with the schema's errorMessage) is bundled");
  // The validator's chunk and every chunk it imports statically: what validating a workflow loads.
  // (`cilo mcp` loads ajv, which the MCP SDK needs, in chunks of its own.)
  const loaded = new Set<string>();
  const visit = (f: string) => {
    if (loaded.has(f)) return;
    loaded.add(f);
    for (const m of text(f).matchAll(/(?:^|[;}\s])import\s*(?:[^"'();]*?from\s*)?["']\.\/([^"']+)["']/g)) visit(m[1]!);
  };
  for (const f of validator) visit(f);
  assert.not.ok(
    [...loaded].some((f) => text(f).includes("strictSchema")),
    "ajv's compiler (its strictSchema option) is loaded with the workflow validator",
  );
});

test.run();
