// Workflow files read by CI from untrusted pull requests, through the built CLI: an include cannot
// read (and print) files outside the workflow's folder tree, ${{ }} of outside values in run: is
// warned about, step titles never carry interpolated values, and absurdly nested expressions are
// a positioned usage error instead of a stack overflow. Host-only workflows: no Docker needed.
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, tempDir, type CliResult } from "../helpers/cli.ts";
import { events } from "../helpers/events.ts";

const home = tempDir("cilo-wfsec-home-");
const work = tempDir("cilo-wfsec-");
const passwd = readFileSync("/etc/passwd", "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l.length > 0);
const SECRET = "hunter2-wfsec-s3cr3t";

function file(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

function run(args: string[], env: Record<string, string> = {}): CliResult {
  return cilo(args, { home, cwd: work, env });
}

/** No line of /etc/passwd, nor its first entry's fields, anywhere in the output. */
function noPasswd(r: CliResult) {
  const out = r.stdout + r.stderr;
  for (const line of passwd) assert.not.ok(out.includes(line), `echoed a line of /etc/passwd: ${line}`);
  assert.not.match(out, /root:x:0:0/);
}

function lines(s: string): string[] {
  return s
    .trimEnd()
    .split("\n")
    .filter((l) => l !== "");
}

test("include: /etc/passwd is refused: exit 2, one line, nothing of the file", () => {
  const wf = file("etc.yaml", "version: 1\nsteps:\n  - include: /etc/passwd\n");
  const r = run(["run", wf]);
  assert.is(r.code, 2, r.stderr);
  assert.equal(lines(r.stderr).length, 1, r.stderr);
  assert.match(
    r.stderr,
    /^cilo: .*etc\.yaml:3:14: steps\[0\]\.include: the file \/etc\/passwd is outside .*, the folder tree this workflow may include from; expected a file inside it, or allow its folder with --allow-include <dir>\n$/,
  );
  assert.is(r.stdout, "");
  noPasswd(r);
  const v = run(["workflow", "validate", wf]);
  assert.is(v.code, 2, v.stderr);
  assert.equal(lines(v.stdout).length, 1, v.stdout);
  assert.match(v.stdout, /etc\.yaml:3:14: steps\[0\]\.include: the file \/etc\/passwd is outside /);
  assert.equal(lines(v.stderr), [`cilo: ${wf} is not a valid workflow: 1 problem (listed above)`]);
  noPasswd(v);
});

test("include: of a symlink in the folder that points outside it is refused", () => {
  symlinkSync("/etc/passwd", join(work, "innocent.yaml"));
  const wf = file("link.yaml", "version: 1\nsteps:\n  - include: innocent.yaml\n");
  const r = run(["run", wf]);
  assert.is(r.code, 2, r.stderr);
  assert.equal(lines(r.stderr).length, 1, r.stderr);
  assert.match(r.stderr, /link\.yaml:3:14: steps\[0\]\.include: the file .*innocent\.yaml \(it leads to \/etc\/passwd\) is outside /);
  noPasswd(r);
});

test("--allow-include lets it through; then it fails as not a workflow, in one line, without its text", () => {
  const wf = join(work, "etc.yaml");
  const r = run(["run", wf, "--allow-include", "/etc"]);
  assert.is(r.code, 2, r.stderr);
  assert.equal(lines(r.stderr).length, 1, r.stderr);
  assert.match(
    r.stderr,
    /^cilo: .*etc\.yaml:3:14: steps\[0\]\.include: the file \/etc\/passwd is not a workflow: it is not a YAML mapping; expected a workflow file with version: 1 and steps\n$/,
  );
  noPasswd(r);
  const v = run(["workflow", "validate", join(work, "link.yaml"), "--allow-include", "/etc", "--json"]);
  assert.is(v.code, 2, v.stderr);
  const report = JSON.parse(v.stdout);
  assert.is(report.issues.length, 1);
  assert.match(report.issues[0].message, /innocent\.yaml is not a workflow: it is not a YAML mapping/);
  noPasswd(v);
  const bad = run(["workflow", "validate", wf, "--allow-include", join(work, "missing-dir")]);
  assert.is(bad.code, 2);
  assert.equal(lines(bad.stderr), [`cilo: --allow-include ${join(work, "missing-dir")}: the folder does not exist`]);
});

test("validate warns on ${{ env.X }} in run: with file:line:col and the safe form, and exits 0", () => {
  const wf = file("warn.yaml", "version: 1\nsteps:\n  - run: echo ${{ env.API_TOKEN }}\n");
  const r = run(["workflow", "validate", wf]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, `OK ${wf}\n`);
  assert.equal(lines(r.stderr), [
    `cilo: warning: warn.yaml:3:19: steps[0].run: \${{ env.API_TOKEN }} is pasted into the script as text, so a value holding quotes, ";" or $(…) runs as shell commands; it is in the step's environment already: use "$API_TOKEN" instead`,
  ]);
  const json = run(["workflow", "validate", wf, "--json"]);
  assert.is(json.code, 0);
  const report = JSON.parse(json.stdout);
  assert.is(report.valid, true);
  assert.equal(
    report.warnings.map((w: { line: number; column: number }) => `${w.line}:${w.column}`),
    ["3:19"],
  );
});

test("a run step interpolating a secret: titles in the plain output and --json events are the text as written", () => {
  const wf = file("secret.yaml", 'version: 1\nsteps:\n  - run: test "${{ env.DEPLOY_TOKEN }}" = "$DEPLOY_TOKEN"\n');
  const plain = run(["run", wf], { DEPLOY_TOKEN: SECRET, CI: "true" });
  assert.is(plain.code, 0, plain.stderr + plain.stdout);
  assert.match(plain.stdout, /\[1\] run test "\$\{\{ env\.DEPLOY_TOKEN \}\}" = "\$DEPLOY_TOKEN": started/);
  assert.match(plain.stdout, /\[1\] run test "\$\{\{ env\.DEPLOY_TOKEN \}\}" = "\$DEPLOY_TOKEN": success/);
  assert.match(plain.stderr, /^cilo: warning: .*secret\.yaml:3:20: steps\[0\]\.run: \$\{\{ env\.DEPLOY_TOKEN \}\} is pasted into the script/);
  assert.not.ok((plain.stdout + plain.stderr).includes(SECRET), plain.stdout);

  const json = run(["run", wf, "--json"], { DEPLOY_TOKEN: SECRET });
  assert.is(json.code, 0, json.stderr);
  assert.not.ok((json.stdout + json.stderr).includes(SECRET), json.stdout);
  const titled = events(json.stdout).filter((e) => e.type === "step_start" || e.type === "step_end");
  assert.is(titled.length, 2);
  for (const e of titled) assert.is(e.title, 'run test "${{ env.DEPLOY_TOKEN }}" = "$DEPLOY_TOKEN"');
});

test("3,000 parentheses and 20,000 '!': exit 2, one line with file:line:col, through validate and run", () => {
  const parens = file("parens.yaml", `version: 1\nsteps:\n  - run: echo \${{ ${"(".repeat(3000)}true${")".repeat(3000)} }}\n`);
  const bangs = file("bangs.yaml", `version: 1\nsteps:\n  - if: "${"!".repeat(20_000)}true"\n    run: echo hi\n`);
  const cases: [string, string][] = [
    [parens, "3:83: steps[0].run"],
    [bangs, "3:74: steps[0].if"],
  ];
  for (const [wf, at] of cases) {
    const message = `${basename(wf)}:${at}: the expression nests more than 64 levels deep`;
    const r = run(["run", wf]);
    assert.is(r.code, 2, r.stderr.slice(0, 300));
    assert.equal(lines(r.stderr).length, 1, r.stderr.slice(0, 300));
    assert.ok(r.stderr.startsWith(`cilo: ${message}`), r.stderr.slice(0, 300));
    assert.not.match(r.stderr, /Maximum call stack|bug in cilo/);
    const v = run(["workflow", "validate", wf]);
    assert.is(v.code, 2, v.stderr.slice(0, 300));
    assert.equal(lines(v.stdout).length, 1, v.stdout.slice(0, 300));
    assert.ok(v.stdout.startsWith(message), v.stdout.slice(0, 300));
    assert.equal(lines(v.stderr), [`cilo: ${wf} is not a valid workflow: 1 problem (listed above)`]);
  }
});

test.after(() => {
  removeDir(work);
  removeDir(home);
});
test.run();
