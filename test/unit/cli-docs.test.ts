// docs/cli.md, `cilo --help` and the code cannot drift: every command and option cac defines is in
// docs/cli.md, on a line that names the command; every environment variable cilo reads is in the
// help's list and in docs/cli.md; the completion scripts cover every command and option.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { cac } from "cac";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { completionModel } from "../../src/cli/commands/completion.ts";
import { COMMAND_NAMES, registerCommands } from "../../src/cli/commands.ts";
import { renderCompletion } from "../../src/cli/completion.ts";
import { testContext } from "../helpers/context.ts";
import { ENVIRONMENT, helpEpilogue, withoutNegatedDefaults } from "../../src/cli/help.ts";

const root = new URL("../../", import.meta.url).pathname;
const docs = readFileSync(join(root, "docs/cli.md"), "utf8");

function program(first?: string) {
  const cli = cac("cilo");
  registerCommands(testContext({ home: "/nonexistent/cilo-home" }), cli, () => {}, first);
  return cli;
}

test("a run that names a command registers only it (start-up); no command, an unknown one and completion register all", () => {
  const all = program().commands.map((c) => c.name);
  assert.equal([...all].sort(), [...COMMAND_NAMES].sort(), "COMMAND_NAMES lists every command registerCommands defines");
  for (const name of COMMAND_NAMES.filter((n) => n !== "completion")) {
    assert.equal(
      program(name).commands.map((c) => c.name),
      [name],
    );
  }
  assert.equal(
    program("ls").commands.map((c) => c.name),
    ["list"],
  );
  for (const first of ["lisst", "--help", "completion"]) assert.is(program(first).commands.length, all.length, first);
});

test("docs/cli.md names every command and, on a line naming it, every one of its options", () => {
  const missing: string[] = [];
  for (const c of program().commands) {
    const lines = docs.split("\n").filter((l) => l.includes(`cilo ${c.name}`));
    if (lines.length === 0) {
      missing.push(`cilo ${c.name}`);
      continue;
    }
    for (const o of c.options) {
      const flag = o.rawName.split(/[ ,]+/).find((f) => f.startsWith("--"))!;
      if (!lines.some((l) => l.includes(flag))) missing.push(`cilo ${c.name} ${flag}`);
    }
  }
  assert.equal(missing, [], `not in docs/cli.md: ${missing.join(", ")}`);
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

test("every environment variable cilo reads is in --help and in docs/cli.md", () => {
  const read = new Set<string>();
  for (const file of sources(join(root, "src"))) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/env\??\.?\[?["']?(CILO_[A-Z_]+)["']?\]?/g)) read.add(m[1]!);
  }
  // Set by cilo for the commands it runs, not read by it; and test-only fault injection.
  for (const set of ["CILO_OUTPUT", "CILO_ENV", "CILO_PROJECT", "CILO_WORKSPACE", "CILO_BASE_URL", "CILO_DNS_SUFFIX", "CILO_FAILPOINT"]) read.delete(set);
  assert.ok(read.has("CILO_HOME") && read.size >= 5, [...read].join(", "));
  const listed = ENVIRONMENT.map((e) => e.name);
  assert.equal(
    [...read].filter((v) => !listed.includes(v)),
    [],
  );
  const table = docs.slice(docs.indexOf("## Environment variables"));
  assert.equal(
    listed.filter((v) => !table.includes(`\`${v}`)),
    [],
    "each variable has a row in docs/cli.md's table",
  );
  const epilogue = helpEpilogue("/x/docs/cli.md");
  for (const v of listed) assert.match(epilogue, new RegExp(`^  ${v} `, "m"));
  assert.match(epilogue, /^Docs: \/x\/docs\/cli\.md/m);
  assert.match(epilogue, /^ {2}3 {2}a prerequisite is missing/m);
});

test("--no-x options lose cac's backwards '(default: true)'; other defaults stay", () => {
  const body = "  --no-up      do not start (default: true)\n  --timeout <d>  how long (default: 2m)";
  assert.is(withoutNegatedDefaults(body), "  --no-up      do not start\n  --timeout <d>  how long (default: 2m)");
});

test("completion scripts cover every command and option; env names come from cilo list", () => {
  const model = completionModel(program());
  const names = model.commands.map((c) => c.name);
  for (const c of ["up", "destroy", "run", "completion", "version", "dns"]) assert.ok(names.includes(c), c);
  assert.ok(model.commands.find((c) => c.name === "up")!.envFirst);
  assert.not.ok(model.commands.find((c) => c.name === "run")!.envFirst, "run's target is a file or an env; files complete");
  assert.not.ok(model.commands.find((c) => c.name === "hostnames")!.envFirst, "hostnames starts with an action");
  for (const shell of ["bash", "zsh", "fish"] as const) {
    const script = renderCompletion(shell, model);
    assert.is(renderCompletion(shell, model), script, "deterministic");
    for (const c of model.commands) {
      assert.ok(script.includes(c.name), `${shell}: ${c.name}`);
      for (const o of c.options) assert.ok(script.includes(shell === "fish" ? `-l ${o.slice(2)}` : o), `${shell}: ${c.name} ${o}`);
    }
    assert.match(script, /cilo list --format quiet/);
  }
  assert.match(renderCompletion("zsh", model), /^#compdef cilo\n/);
  assert.throws(() => renderCompletion("bash", { commands: [{ name: "x$(id)", options: [], envFirst: false }] }), /Not a completion word/);
});

test.run();
