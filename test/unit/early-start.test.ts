// cli/early-start.ts reads a plain `up`/`sync` line before cac loads, to begin compose or a push
// early. Whatever it accepts, cac must read the same way (env, project, compose's flags), and it
// must know each of those commands' options as cac defines them, so that a new option falls back
// to the parser instead of being misread.
import { cac } from "cac";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { registerCommands } from "../../src/cli/commands.ts";
import { EARLY_OPTIONS, plainLine } from "../../src/cli/early-start.ts";
import { testContext } from "../helpers/context.ts";

function parsedByCac(argv: string[]) {
  const cli = cac("cilo");
  registerCommands(testContext({ home: "/nonexistent/cilo-home" }), cli, () => {}, argv[0]);
  const parsed = cli.parse(["node", "cilo", ...argv], { run: false });
  return { command: cli.matchedCommand?.name, args: parsed.args, options: parsed.options };
}

const accepted: string[][] = [
  ["up", "feat-x"],
  ["up", "feat-x", "--build", "--recreate"],
  ["up", "--project", "shop", "feat-x", "--json"],
  ["up", "feat-x", "--project=shop", "--wait", "--timeout", "90s"],
  ["up", "shop:feat-x", "--profile", "debug", "--profile", "tools", "--share", "db", "--isolate", "cache", "--shared-network", "db-env"],
  ["sync", "feat-x"],
  ["sync", "feat-x", "--json", "--project", "shop"],
  ["sync", "--project=shop", "feat-x"],
];

test("a plain line is read as cac reads it: the env, the project, --build and --recreate", () => {
  for (const argv of accepted) {
    const line = plainLine(argv);
    assert.ok(line, `accepted: ${argv.join(" ")}`);
    const byCac = parsedByCac(argv);
    assert.is(byCac.command, line!.command, argv.join(" "));
    assert.equal(byCac.args, [line!.ref], argv.join(" "));
    assert.is(byCac.options["project"], line!.project, argv.join(" "));
    if (line!.command === "up") {
      assert.is(!!byCac.options["build"], line!.build, argv.join(" "));
      assert.is(!!byCac.options["recreate"], line!.recreate, argv.join(" "));
    }
  }
});

test("any other line is left to the parser", () => {
  const refused: string[][] = [
    [],
    ["down", "feat-x"],
    ["create", "feat-x"],
    ["up"],
    ["up", "a", "b"],
    ["up", "feat-x", "--help"],
    ["up", "feat-x", "-h"],
    ["up", "feat-x", "--"],
    ["up", "feat-x", "--", "x"],
    ["up", "feat-x", "--bogus"],
    ["up", "feat-x", "-p", "shop"],
    ["up", "feat-x", "--project"],
    ["up", "feat-x", "--project", "--build"],
    ["up", "feat-x", "--project="],
    ["up", "feat-x", "--project", "a", "--project", "b"],
    ["up", "feat-x", "--build=false"],
    ["up", "feat-x", "--no-build"],
    ["up", "feat-x", "--"],
    ["up", "feat-x", "---build"],
    ["sync", "feat-x", "--pull"],
    ["sync", "feat-x", "--full"],
    ["sync", "feat-x", "--watch"],
    ["sync", "feat-x", "--build"],
    ["sync", "--json"],
  ];
  for (const argv of refused) assert.is(plainLine(argv), undefined, argv.join(" "));
});

test("the options it knows are those cac defines for up and sync (sync's --pull, --full, --watch begin nothing early)", () => {
  for (const command of ["up", "sync"] as const) {
    const cli = cac("cilo");
    registerCommands(testContext({ home: "/nonexistent/cilo-home" }), cli, () => {}, command);
    const defined = cli.commands[0]!.options.map((o) => ({ name: o.rawName.split(/[ ,]/)[0]!.slice(2), takesValue: o.rawName.includes("<") }));
    const known = EARLY_OPTIONS[command];
    const left = command === "sync" ? ["pull", "full", "watch"] : [];
    assert.equal(
      defined
        .filter((o) => o.takesValue)
        .map((o) => o.name)
        .sort(),
      [...known.values].sort(),
      `${command}: options with a value`,
    );
    assert.equal(
      defined
        .filter((o) => !o.takesValue && !left.includes(o.name))
        .map((o) => o.name)
        .sort(),
      [...known.flags].sort(),
      `${command}: flags`,
    );
  }
});

test.run();
