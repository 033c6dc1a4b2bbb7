// Env names mean the same in every command (issue 14 item 2): a git branch name such as
// `feat/login` is the env `feat-login` for create, up, status, path, run and destroy alike;
// `<project>:<env>` names the project too; the old `<project>/<env>` is refused where it could
// mean two envs.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, type CliResult, removeDir, tempDir } from "../helpers/cli.ts";
import { freePort, labelled } from "../helpers/docker.ts";

const rand = Math.random().toString(36).slice(2, 7);
const project = `names-${rand}`;
const home = tempDir("cilo-names-");
const work = tempDir("cilo-names-src-");
const src = join(work, project);

function run(args: string[], cwd = src): CliResult {
  return cilo(args, { home, cwd });
}

function ok(args: string[], cwd = src): CliResult {
  const r = run(args, cwd);
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

const git = (...args: string[]) => execFileSync("git", args, { cwd: src, encoding: "utf8" }).trim();

test.before(async () => {
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, "docker-compose.yml"), 'services:\n  web:\n    image: cilo-test/busybox:latest\n    command: ["sleep", "3600"]\n');
  git("init", "-q", "-b", "main");
  git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "start");
  git("checkout", "-q", "-b", "feat/login");
  ok(["init", "--dns-port", String(await freePort())], work);
});

test.after(() => {
  for (const ref of [`${project}:feat-login`, `${project}:fix-typo`, "feat:login"]) run(["destroy", ref, "--force"], work);
  run(["dns", "stop"], work);
  for (const d of [home, work]) removeDir(d);
});

test("the branch name feat/login is the env feat-login in create, up, status, path, run and destroy", () => {
  const branch = git("branch", "--show-current");
  assert.is(branch, "feat/login");
  assert.match(ok(["create", branch]).stdout, new RegExp(`Created ${project}/feat-login `));
  ok(["up", branch, "--wait", "--timeout", "60s"]);
  const status = JSON.parse(ok(["status", branch, "--json"]).stdout);
  assert.is(status.project, project);
  assert.is(status.name, "feat-login");
  assert.is(status.status, "running");
  assert.ok(
    ok(["path", branch])
      .stdout.trim()
      .endsWith(join("envs", project, "feat-login")),
  );
  // The README's Makefile recipe: the same env, not project "feat", env "login".
  const r = ok(["run", 'echo "in $CILO_PROJECT:$CILO_ENV"', branch, "--from", "."]);
  assert.match(r.stdout, new RegExp(`in ${project}:feat-login`));
  // cilo run creates a missing branch env under the same name cilo create would give it.
  git("checkout", "-q", "-b", "fix/typo");
  const made = ok(["run", 'echo "made $CILO_PROJECT:$CILO_ENV"', git("branch", "--show-current"), "--from", ".", "--no-up"]);
  assert.match(made.stdout, new RegExp(`made ${project}:fix-typo`));
  ok(["destroy", "fix/typo", "--force"]);
});

test("<project>:feat/login names the env from anywhere", () => {
  const status = JSON.parse(ok(["status", `${project}:feat/login`, "--json"], work).stdout);
  assert.is(status.name, "feat-login");
  assert.is(ok(["path", `${project}:feat/login`], work).stdout.trim(), ok(["path", "feat/login"]).stdout.trim());
});

test("feat/login that could also mean env login of a project feat is refused, saying how to write each", () => {
  ok(["create", "login", "--project", "feat", "--from", src]);
  const r = run(["status", "feat/login"]);
  assert.is(r.code, 2, r.stderr);
  const [message, hint, ...rest] = r.stderr.trimEnd().split("\n");
  assert.equal(rest, []);
  assert.match(message!, /^cilo: "feat\/login" names two envs: "feat-login" of project "names-\w+" \(the whole name\) and "login" of project "feat"$/);
  assert.is(hint, `hint: Write ${project}:feat/login for the first or feat:login for the second`);
  assert.is(JSON.parse(ok(["status", "feat:login", "--json"]).stdout).project, "feat");
  ok(["destroy", "feat:login", "--force"]);
  // With project feat gone, the branch name is unambiguous again.
  ok(["destroy", "feat/login", "--force"]);
  assert.is(run(["status", `${project}:feat/login`]).code, 2);
  assert.equal(labelled("container", `cilo.project=${project}`), []);
});

test.run();
