// Checks the import rules in .dependency-cruiser.cjs (layers cli -> workflow -> core, providers
// implementing core's interface, no cycles between files or folders, no orphans, only bundled
// packages) over src/, and that core reads no ambient state (below). Prints each violation and
// exits 1 when there is any.
//
// Uses dependency-cruiser's API rather than its CLI: the `depcruise` command refuses to start on
// Node 20, which cilo still supports, while the API it wraps runs there.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { cruise } from "dependency-cruiser";
import extractDepcruiseOptions from "dependency-cruiser/config-utl/extract-depcruise-options";
import extractTSConfig from "dependency-cruiser/config-utl/extract-ts-config";
import ts from "typescript";

process.chdir(new URL("..", import.meta.url).pathname);
const options = await extractDepcruiseOptions("./.dependency-cruiser.cjs");
const tsConfig = extractTSConfig(options.ruleSet.options?.tsConfig?.fileName ?? "tsconfig.json");
const result = await cruise(["src"], { ...options, ...options.ruleSet.options, outputType: "err" }, {}, { tsConfig });
process.stdout.write(result.output);

// no-ambient-state-in-core: core gets its home, environment and working folder from the
// CiloContext it is passed (src/core/context/context.ts), never from the process. Only src/main.ts
// reads process.env and process.cwd(). process.pid, process.kill, process.exitCode, signals and
// process.stderr stay allowed. Checked on the syntax tree, so comments that name them do not count.
const AMBIENT = [
  { test: (n) => ts.isPropertyAccessExpression(n) && isProcess(n.expression) && n.name.text === "env", what: "process.env" },
  { test: (n) => ts.isPropertyAccessExpression(n) && isProcess(n.expression) && n.name.text === "cwd", what: "process.cwd()" },
  { test: (n) => ts.isIdentifier(n) && n.text === "ciloHome", what: "ciloHome()" },
];

function isProcess(n) {
  return ts.isIdentifier(n) && n.text === "process";
}

function tsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

const ambient = [];
// src/mcp (cilo mcp) is held to the same rule: the server gets its context from main.ts like the CLI.
for (const file of [...tsFiles("src/core"), ...tsFiles("src/mcp")]) {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    for (const rule of AMBIENT) {
      if (rule.test(node)) {
        const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source));
        ambient.push(`${relative(".", file)}:${line + 1}:${character + 1}: ${rule.what}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
if (ambient.length > 0) {
  process.stdout.write(
    `\n  error no-ambient-state-in-core: core and mcp take the home, environment and working folder from the CiloContext (ctx.home, ctx.env, ctx.cwd); only src/main.ts reads the process\n${ambient.map((a) => `    ${a}\n`).join("")}\n`,
  );
}
process.exitCode = result.exitCode === 0 && ambient.length === 0 ? 0 : 1;
