// The CLI shell: help, version, exit codes and the one-line error style (SPEC §6, §6a).
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, tempDir } from "../helpers/cli.ts";

const home = tempDir();
const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));

function assertOneLineError(r: { code: number; stderr: string; stdout: string }, code: number, re: RegExp) {
  assert.is(r.code, code, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.ok(lines.length >= 1 && lines.length <= 2, `stderr: ${r.stderr}`);
  assert.match(lines[0]!, /^cilo: /);
  assert.match(lines[0]!, re);
  if (lines[1]) assert.match(lines[1], /^hint: /);
  assert.not.match(r.stderr, /\bat .*\(.*:\d+:\d+\)/, "no stack trace");
}

test("--version and --help", () => {
  const v = cilo(["--version"], { home });
  assert.is(v.code, 0);
  assert.is(v.stdout.trim(), `cilo ${pkg.version}`);
  const h = cilo(["--help"], { home });
  assert.is(h.code, 0);
  for (const c of ["init", "create", "list", "destroy"]) assert.match(h.stdout, new RegExp(`\\b${c}\\b`));
  const ch = cilo(["create", "--help"], { home });
  assert.is(ch.code, 0);
  assert.match(ch.stdout, /--from <path>/);
});

test("cilo version; --help ends with exit codes, environment and the installed docs; --no-x reads right", () => {
  const v = cilo(["version"], { home });
  assert.is(v.code, 0);
  assert.is(v.stdout.trim(), `cilo ${pkg.version}`);
  const h = cilo(["--help"], { home }).stdout;
  assert.match(h, /^Exit codes:\n {2}0 {2}success/m);
  assert.match(h, /^ {2}CILO_HOME {2,}where state/m);
  assert.match(h, /^ {2}CILO_VERBOSE /m);
  const docs = /^Docs: (\S+) /m.exec(h);
  assert.ok(docs && readFileSync(docs[1]!, "utf8").includes("## Environment variables"), h);
  const run = cilo(["run", "--help"], { home }).stdout;
  assert.match(run, /--no-up {2,}Command: do not start the env\n/);
  assert.not.match(run, /--no-(up|create).*default: true/);
});

test("did you mean: commands, options, envs; cilo up of a missing env hints cilo create", () => {
  assertOneLineError(cilo(["upp", "x"], { home }), 2, /Unknown command "upp" \(did you mean "up"\?\)/);
  assertOneLineError(cilo(["up", "x", "--wiat"], { home }), 2, /Unknown option "--wiat" \(did you mean "--wait"\?\)/);
  const h2 = tempDir();
  try {
    assert.is(cilo(["init"], { home: h2 }).code, 0);
    const r = cilo(["up", "nope"], { home: h2 });
    assertOneLineError(r, 2, /No env "nope" exists/);
    assert.match(r.stderr, /^hint: Create it with: cilo create nope;/m);
    // compose's own arguments after the env need no "--": the env is looked up (and missing) first.
    assertOneLineError(cilo(["compose", "nope", "ps"], { home: h2 }), 2, /No env "nope" exists/);
  } finally {
    removeDir(h2);
  }
});

test("cilo completion bash completes commands, options and envs in a real bash", () => {
  const script = join(tempDir(), "cilo.bash");
  const bash = cilo(["completion", "bash"], { home });
  assert.is(bash.code, 0, bash.stderr);
  writeFileSync(script, bash.stdout);
  const complete = (words: string[]) => {
    const r = spawnSync(
      "bash",
      [
        "-c",
        `source ${JSON.stringify(script)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(" ")}); COMP_CWORD=${words.length - 1}; _cilo; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      { encoding: "utf8" },
    );
    assert.is(r.status, 0, r.stderr);
    return r.stdout.trim().split("\n");
  };
  assert.equal(complete(["cilo", "up"]), ["up"]);
  assert.equal(complete(["cilo", "up", "x", "--wa"]), ["--wait"]);
  assert.equal(complete(["cilo", "dns", "te"]), ["teardown"]);
  for (const shell of ["zsh", "fish"]) assert.is(cilo(["completion", shell], { home }).code, 0);
  assertOneLineError(cilo(["completion", "tcsh"], { home }), 2, /No completion for the shell "tcsh"/);
});

test("commands before init exit 3 and say to run cilo init", () => {
  assertOneLineError(cilo(["list"], { home }), 3, /not initialised/);
});

test("init is idempotent and records the flags", () => {
  assert.is(cilo(["init"], { home }).code, 0);
  const r = cilo(["init", "--dns-port", "5999", "--dns-suffix", ".dev", "--json"], { home });
  assert.is(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).config, { subnet_pool: "10.224.0.0/12", subnet_size: 24, dns_port: 5999, dns_suffix: "dev" });
  const again = cilo(["init", "--json"], { home });
  assert.is(JSON.parse(again.stdout).created, false);
  assert.is(JSON.parse(again.stdout).config.dns_port, 5999);
  assertOneLineError(cilo(["init", "--subnet-pool", "banana"], { home }), 2, /--subnet-pool/);
});

test("bad input: exit 2, one clear line, state unchanged", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "compose.yml"), "services:\n  app:\n    image: cilo-test/busybox:latest\n    command: sleep 600\n");
  try {
    assert.is(cilo(["create", "ok-env", "--from", dir], { home }).code, 0);
    const before = readFileSync(join(home, "state.json"), "utf8");
    assertOneLineError(cilo(["create", "../x", "--from", dir], { home }), 2, /not valid/);
    assertOneLineError(cilo(["create", "", "--from", dir], { home }), 2, /empty|missing/);
    assertOneLineError(cilo(["create", "a".repeat(200), "--from", dir], { home }), 2, /200 characters/);
    assertOneLineError(cilo(["create", "ok-env", "--from", dir], { home }), 2, /already exists/);
    assertOneLineError(cilo(["create", "OK_Env", "--from", dir], { home }), 2, /already exists/);
    assertOneLineError(cilo(["frobnicate"], { home }), 2, /Unknown command "frobnicate"/);
    assertOneLineError(cilo(["list", "--bogus"], { home }), 2, /Unknown option/);
    assertOneLineError(cilo(["list", "--format", "xml"], { home }), 2, /--format/);
    assertOneLineError(cilo(["destroy", "nope"], { home }), 2, /No env "nope"/);
    assert.is(readFileSync(join(home, "state.json"), "utf8"), before);
    // Upper case and spaces are normalised, not refused.
    const r = cilo(["create", "Feat Login", "--from", dir, "--json"], { home });
    assert.is(r.code, 0, r.stderr);
    assert.is(JSON.parse(r.stdout).name, "feat-login");
    assert.is(cilo(["destroy", "nope", "--force"], { home }).code, 0);
    assert.is(cilo(["destroy", "ok-env", "--force", "--project", JSON.parse(r.stdout).project], { home }).code, 0);
    assert.is(cilo(["destroy", "feat-login", "--force", "--project", JSON.parse(r.stdout).project], { home }).code, 0);
  } finally {
    removeDir(dir);
  }
});

test("CILO_DEBUG=1 shows the stack", () => {
  const r = cilo(["destroy", "nope"], { home, env: { CILO_DEBUG: "1" } });
  assert.is(r.code, 2);
  assert.match(r.stderr, /CiloError/);
});

test.after(() => removeDir(home));

test("start-up loads only what the command needs: --version no child_process or crypto, list no child_process, http or tls", () => {
  // Node's own modules a run loaded, written at exit by a preloaded script.
  const dir = tempDir("cilo-startup-mods-");
  try {
    const hook = join(dir, "mods.mjs");
    writeFileSync(
      hook,
      `import { writeFileSync } from "node:fs";
process.on("exit", () => writeFileSync(process.env.MODS_OUT, process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice(13)).join("\\n")));`,
    );
    const loaded = (args: string[]) => {
      const out = join(dir, `${args[0]}.txt`);
      const r = cilo(args, { home, env: { NODE_OPTIONS: `--import ${hook}`, MODS_OUT: out } });
      assert.is(r.code, 0, r.stderr);
      return readFileSync(out, "utf8").split("\n");
    };
    const version = loaded(["--version"]);
    assert.ok(version.includes("fs"), "the hook saw the run");
    for (const m of ["child_process", "crypto"]) assert.not.ok(version.includes(m), `--version loaded ${m}`);
    const list = loaded(["list"]);
    for (const m of ["child_process", "http", "tls"]) assert.not.ok(list.includes(m), `list loaded ${m}`);
  } finally {
    removeDir(dir);
  }
});

test.run();
