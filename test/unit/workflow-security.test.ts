// Workflow files read by CI from untrusted pull requests: includes stay inside the workflow's
// repository (or folder), a file that is not a workflow is never quoted, `${{ }}` of outside
// values pasted into run: scripts is warned about, and step titles never carry interpolated values.
import { testContext } from "../helpers/context.ts";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CiloError } from "../../src/core/errors.ts";
import { WorkflowRunner } from "../../src/workflow/engine.ts";
import type { WorkflowEvent } from "../../src/workflow/events.ts";
import { formatIssue, includeRoots, loadWorkflow, validateWorkflowText, WorkflowInvalidError } from "../../src/workflow/load.ts";
import { notAWorkflow } from "../../src/workflow/validate.ts";

let dir = "";
const secretLines = ["root:x:0:0:secret-hash-line", "daemon:x:1:1:another-secret-line"];

test.before.each(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "cilo-wfsec-")));
});
test.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

async function issuesOf(path: string, allowInclude?: string[]): Promise<string[]> {
  let caught: unknown;
  try {
    await loadWorkflow(path, allowInclude ? { allowInclude } : {});
  } catch (e) {
    caught = e;
  }
  assert.instance(caught, WorkflowInvalidError, `${path} did not fail validation: ${String(caught)}`);
  return (caught as WorkflowInvalidError).issues.map(formatIssue);
}

function noSecret(lines: string[]) {
  for (const l of lines) for (const s of secretLines) assert.not.ok(l.includes(s) || l.includes(s.slice(0, 12)), `echoed: ${l}`);
}

test("includeRoots: the git top-level above the workflow, else its folder; --allow-include folders resolved", () => {
  write("repo/.git/HEAD", "ref: refs/heads/main\n");
  const wf = write("repo/ci/deep/wf.yaml", "");
  assert.equal(includeRoots(wf, []), { home: join(dir, "repo"), roots: [join(dir, "repo")] });
  const loose = write("loose/wf.yaml", "");
  mkdirSync(join(dir, "shared"));
  assert.equal(includeRoots(loose, [join(dir, "shared")]), { home: join(dir, "loose"), roots: [join(dir, "loose"), join(dir, "shared")] });
  assert.throws(
    () => includeRoots(loose, [join(dir, "nope")]),
    (e: unknown) => e instanceof CiloError && e.exitCode === 2 && /--allow-include .*nope: the folder does not exist/.test(e.message),
  );
});

test("an include outside the workflow's folder (no git) is refused without being read", async () => {
  const outside = write("elsewhere/passwd", `${secretLines.join("\n")}\n`);
  const main = write("proj/main.yaml", `version: 1\nsteps:\n  - include: ${outside}\n  - include: ../elsewhere/passwd\n`);
  const issues = await issuesOf(main);
  assert.is(issues.length, 2, issues.join("\n"));
  assert.match(
    issues[0]!,
    /main\.yaml:3:14: steps\[0\]\.include: the file .*elsewhere\/passwd is outside .*proj, the folder tree this workflow may include from; expected a file inside it, or allow its folder with --allow-include <dir>$/,
  );
  assert.match(issues[1]!, /main\.yaml:4:14: steps\[1\]\.include: .* is outside /);
  noSecret(issues);
});

test("/etc/passwd is refused by default, and with --allow-include it is 'not a workflow' in one line without its text", async () => {
  const main = write("main.yaml", "version: 1\nsteps:\n  - include: /etc/passwd\n");
  const refused = await issuesOf(main);
  assert.is(refused.length, 1);
  assert.match(refused[0]!, /the file \/etc\/passwd is outside /);
  const allowed = await issuesOf(main, ["/etc"]);
  assert.equal(allowed.length, 1, allowed.join("\n"));
  assert.match(
    allowed[0]!,
    /main\.yaml:3:14: steps\[0\]\.include: the file \/etc\/passwd is not a workflow: it is not a YAML mapping; expected a workflow file with version: 1 and steps$/,
  );
  assert.not.match(allowed[0]!, /root:/);
});

test("a symlink inside the folder that leads outside is refused; one that stays inside is fine", async () => {
  const outside = write("outside/part.yaml", "version: 1\nsteps:\n  - run: echo outside\n");
  write("proj/inner/part.yaml", "version: 1\nsteps:\n  - run: echo inner\n");
  symlinkSync(outside, join(dir, "proj/escape.yaml"));
  symlinkSync(join(dir, "outside"), join(dir, "proj/outdir"));
  symlinkSync(join(dir, "proj/inner"), join(dir, "proj/indir"));
  const main = write("proj/main.yaml", "version: 1\nsteps:\n  - include: escape.yaml\n  - include: outdir/part.yaml\n  - include: indir/part.yaml\n");
  const issues = await issuesOf(main);
  assert.is(issues.length, 2, issues.join("\n"));
  assert.match(issues[0]!, /3:14: steps\[0\]\.include: the file .*escape\.yaml \(it leads to .*outside\/part\.yaml\) is outside /);
  assert.match(issues[1]!, /4:14: steps\[1\]\.include: the file .*outdir\/part\.yaml \(it leads to .*outside\/part\.yaml\) is outside /);
  // A workflow that is itself a link elsewhere is held to the folder it is named in.
  write("outside/main.yaml", "version: 1\nsteps:\n  - include: ../outside/part.yaml\n");
  symlinkSync(join(dir, "outside/main.yaml"), join(dir, "proj/linked.yaml"));
  assert.match((await issuesOf(join(dir, "proj/linked.yaml")))[0]!, /part\.yaml is outside .*proj, the folder tree/);
  // Allowed explicitly, the same file loads.
  const loaded = await loadWorkflow(main, { allowInclude: [join(dir, "outside")] });
  assert.is(loaded.includes.size, 3);
});

test("inside a git repository, files anywhere in it may be included, also from a nested folder", async () => {
  write("repo/.git/HEAD", "ref: refs/heads/main\n");
  write("repo/shared/setup.yaml", "version: 1\nsteps:\n  - run: echo setup\n");
  const main = write("repo/ci/workflows/main.yaml", "version: 1\nsteps:\n  - include: ../../shared/setup.yaml\n");
  const loaded = await loadWorkflow(main);
  assert.equal([...loaded.includes.keys()], [join(dir, "repo/shared/setup.yaml")]);
  write("secret.yaml", "version: 1\nsteps:\n  - run: echo secret\n");
  const out = write("repo/ci/out.yaml", "version: 1\nsteps:\n  - include: ../../secret.yaml\n");
  assert.match((await issuesOf(out))[0]!, /is outside .*repo, the folder tree/);
});

test("an include that is not a workflow is one issue naming it and why, never its lines", async () => {
  const cases: [string, string, RegExp][] = [
    ["notes.txt", `${secretLines.join("\n")}\n`, /it is not a YAML mapping/],
    ["compose.yaml", `services:\n  db:\n    image: ${secretLines[0]}\n`, /it has neither version: nor steps:/],
    ["broken.yaml", `key: [${secretLines[0]}\n  - ${secretLines[1]}: {\n`, /it is not valid YAML \(line \d+, column \d+\)/],
    ["binary.bin", `\0\x01${secretLines[0]}`, /it is a binary file/],
  ];
  for (const [name, text, why] of cases) {
    write(name, text);
    const main = write("main.yaml", `version: 1\nsteps:\n  - include: ${name}\n`);
    const issues = await issuesOf(main);
    assert.is(issues.length, 1, issues.join("\n"));
    assert.match(issues[0]!, new RegExp(`main\\.yaml:3:14: steps\\[0\\]\\.include: the file \\S*${name.replace(".", "\\.")} is not a workflow: `));
    assert.match(issues[0]!, why);
    noSecret(issues);
  }
  mkdirSync(join(dir, "folder.yaml"));
  const main = write("main.yaml", "version: 1\nsteps:\n  - include: folder.yaml\n");
  assert.match((await issuesOf(main))[0]!, /the file \S*folder\.yaml is not a workflow: it is not a regular file/);
  // A workflow with a mistake is still listed in full, in its own file.
  write("part.yaml", "version: 1\nsteps:\n  - run: x\n    retry: many\n");
  const withPart = write("main.yaml", "version: 1\nsteps:\n  - include: part.yaml\n");
  assert.match((await issuesOf(withPart))[0]!, /part\.yaml:4:12: steps\[0\]\.retry: got "many"/);
});

test("notAWorkflow", () => {
  assert.is(notAWorkflow("version: 1\nsteps: []\n"), undefined);
  assert.is(notAWorkflow("steps:\n  - run: x\n"), undefined);
  assert.is(notAWorkflow("just text"), "it is not a YAML mapping");
  assert.is(notAWorkflow(""), "it is not a YAML mapping");
  assert.is(notAWorkflow("a: 1\n"), "it has neither version: nor steps:");
});

test("warnings: env, vars and step outputs pasted into run:, at the reference, with the safe form", () => {
  const text = [
    "version: 1",
    "vars: { who: me }",
    "steps:",
    "  - id: s",
    "    run: echo ${{ env.TOKEN }}",
    "  - run: |",
    '      echo "${{ steps.s.outputs.url }}"',
    "      echo ${{ vars.who }} ${{ cilo.env }} ${{ steps.s.outcome }}",
    "    env: { SAFE: '${{ env.TOKEN }}' }",
    "  - name: ${{ env.TOKEN }}",
    "    exec: { service: x, command: echo }",
  ].join("\n");
  const { issues, warnings } = validateWorkflowText(text, "w.yaml");
  assert.equal(issues, []);
  assert.equal(
    warnings.map((w) => `${w.line}:${w.column} ${w.path}`),
    ["5:19 steps[0].run", "7:17 steps[1].run", "8:16 steps[1].run"],
  );
  assert.match(
    warnings[0]!.message,
    /^\$\{\{ env\.TOKEN \}\} is pasted into the script as text, so a value holding quotes, ";" or \$\(…\) runs as shell commands; it is in the step's environment already: use "\$TOKEN" instead$/,
  );
  assert.match(
    warnings[1]!.message,
    /\$\{\{ steps\.s\.outputs\.url \}\} .*pass it through env: \(env: \{ S_URL: "\$\{\{ steps\.s\.outputs\.url \}\}" \}\) and use "\$S_URL" instead$/,
  );
  assert.match(warnings[2]!.message, /\$\{\{ vars\.who \}\} .*env: \{ WHO: .* "\$WHO"/);
  assert.equal(validateWorkflowText('version: 1\nsteps:\n  - run: echo "$TOKEN"\n', "w.yaml").warnings, []);
  // A script that is only one ${{ }} is a command on purpose (run: ${{ vars.test }}).
  assert.equal(
    validateWorkflowText('version: 1\nvars: { test: npm test }\nsteps:\n  - run: ${{ vars.test }}\n  - run: " ${{ env.CMD }}\\n"\n', "w.yaml").warnings,
    [],
  );
  // Suggested names never clobber what the shell relies on.
  const path = validateWorkflowText(
    "version: 1\nvars: { path: /, cilo_x: 1 }\nsteps:\n  - run: curl x${{ vars.path }} ${{ vars.cilo_x }}\n",
    "w.yaml",
  ).warnings;
  assert.match(path[0]!.message, /env: \{ PATH_VALUE: .* "\$PATH_VALUE"/);
  assert.match(path[1]!.message, /env: \{ CILO_X_VALUE: /);
});

test("warnings of included files reach the loaded workflow; the load still succeeds", async () => {
  write("part.yaml", "version: 1\nsteps:\n  - run: echo ${{ env.HOME }}\n");
  const main = write("main.yaml", "version: 1\nsteps:\n  - include: part.yaml\n  - include: part.yaml\n  - run: echo ${{ vars.x }}\nvars: { x: 1 }\n");
  const loaded = await loadWorkflow(main);
  assert.equal(
    loaded.warnings.map((w) => `${w.file.replace(/.*\//, "")}:${w.line}:${w.column}`),
    ["main.yaml:5:19", "part.yaml:3:19"],
  );
});

test("step titles are the text as written: no value of env, vars or outputs reaches the events", async () => {
  const main = write(
    "main.yaml",
    [
      "version: 1",
      "vars: { v: from-vars }",
      "steps:",
      "  - id: s",
      '    run: echo out=leaked-output >> "$CILO_OUTPUT"',
      "  - run: echo ${{ env.SECRET_TOKEN }} | wc -c",
      "  - name: deploy ${{ vars.v }} ${{ steps.s.outputs.out }}",
      "    run: echo ${{ steps.s.outputs.out }} >/dev/null",
    ].join("\n"),
  );
  const events: WorkflowEvent[] = [];
  const runner = new WorkflowRunner(await loadWorkflow(main), {
    ctx: testContext({ home: join(dir, "home") }),
    onEvent: (e) => events.push(e),
    processEnv: { PATH: process.env["PATH"], HOME: dir, CILO_HOME: join(dir, "home"), SECRET_TOKEN: "hunter2-secret-value" },
  });
  const result = await runner.run();
  assert.is(result.exitCode, 0, JSON.stringify(events));
  const titles = events.flatMap((e) => (e.type === "step_start" || e.type === "step_end" ? [`${e.type} ${e.path} ${e.title}`] : []));
  assert.equal(titles, [
    'step_start 1 run echo out=leaked-output >> "$CILO_OUTPUT"',
    'step_end 1 run echo out=leaked-output >> "$CILO_OUTPUT"',
    "step_start 2 run echo ${{ env.SECRET_TOKEN }} | wc -c",
    "step_end 2 run echo ${{ env.SECRET_TOKEN }} | wc -c",
    "step_start 3 deploy ${{ vars.v }} ${{ steps.s.outputs.out }}",
    "step_end 3 deploy ${{ vars.v }} ${{ steps.s.outputs.out }}",
  ]);
  const everything = JSON.stringify(events.filter((e) => e.type !== "step_end" || e.path !== "1"));
  assert.not.match(everything, /hunter2/);
  assert.not.match(everything, /from-vars/);
});

test.run();
