// The published package: `npm pack` (which builds dist/ through `prepack`), then a global install
// of the tarball into an empty prefix, offline — the bundle carries its dependencies, so the
// package has none, and no install script (npm 11 warns about those on every global install) — and
// the installed `cilo`, run from outside the repository, drives a real env of examples/basic and a
// workflow against the real engine, compose CLI and dnsmasq. Then the library: the example of
// examples/node-test installed with the tarball in a project of its own, run by `node --test` and
// by Deno, its types checked by tsc; and the schemas editors are pointed at (global and local
// installs). Then the other ways README.md ("Install", "Uninstall") and the CI templates
// document, each run as written into its own prefix.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { repoRoot, removeDir, tempDir } from "../helpers/cli.ts";
import { labelled } from "../helpers/docker.ts";
import { denoBinary } from "../deno/use-deno.ts";

const tmp = tempDir("cilo-pkg-");
const prefix = join(tmp, "prefix");
const home = join(tmp, "home");
const work = join(tmp, "work");
const bin = join(prefix, "bin", "cilo");
const installed = join(prefix, "lib", "node_modules", "cilo");
const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
const dnsPort = String(20_000 + Math.floor(Math.random() * 20_000));
const env = `pkg-${Math.random().toString(16).slice(2, 8)}`;
let tarball = "";

function run(cmd: string, args: string[], cwd = work): SpawnSyncReturns<string> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, CILO_HOME: home, NO_COLOR: "1" };
  delete childEnv["NODE_PATH"];
  return spawnSync(cmd, args, { cwd, env: childEnv, encoding: "utf8", timeout: 300_000 });
}

function cilo(...args: string[]): SpawnSyncReturns<string> {
  return run(bin, args);
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.is(r.status, 0, `${what} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

test.before(() => {
  mkdirSync(work, { recursive: true });
});

test("npm pack holds the bundle, lazy parts, schema, templates and licences, and no sources", () => {
  const out = ok(run("npm", ["pack", "--json", "--pack-destination", tmp], repoRoot), "npm pack");
  const [info] = JSON.parse(out.slice(out.indexOf("["))) as { filename: string; files: { path: string }[] }[];
  tarball = join(tmp, info!.filename);
  assert.ok(existsSync(tarball));
  const files = info!.files.map((f) => f.path);
  for (const f of [
    "bin/cilo.mjs",
    "dist/cilo.mjs",
    "dist/lazy/ssh.cjs",
    "dist/THIRD-PARTY-LICENSES.txt",
    "dist/lib.mjs",
    "dist/lib.d.ts",
    "dist/types/lib.d.ts",
    "schema/cilo.workflow.schema.json",
    "schema/cilo.config.schema.json",
    "schema/cilo.env.schema.json",
    "templates/e2e.yaml",
    "README.md",
    "package.json",
  ]) {
    assert.ok(files.includes(f), `${f} missing from the package`);
  }
  assert.ok(files.some((f) => f.startsWith("dist/chunks/")));
  assert.equal(
    files.filter((f) => /^(src|test|bench|node_modules|scripts)\//.test(f)),
    [],
  );
});

test("global install into an empty prefix, offline, installs no dependencies and warns of no install script", () => {
  const r = run("npm", ["install", "-g", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", tarball]);
  ok(r, "npm install -g");
  assert.not.match(r.stdout + r.stderr, /install-scripts|allow-scripts|prepare/i);
  assert.ok(existsSync(bin), "bin/cilo linked");
  assert.not.ok(existsSync(join(installed, "node_modules")), "a dependency was installed");
  assert.is(ok(cilo("--version"), "cilo --version").trim(), `cilo ${pkg.version}`);
});

test("the installed cilo: init, create, up --wait, status, DNS, destroy", () => {
  ok(cilo("init", "--dns-port", dnsPort), "init");
  ok(cilo("create", env, "--from", join(repoRoot, "examples/basic")), "create");
  try {
    ok(cilo("up", `basic/${env}`, "--wait"), "up");
    const view = JSON.parse(ok(cilo("status", `basic/${env}`, "--json"), "status"));
    const api = view.services.find((s: { name: string }) => s.name === "api");
    assert.is(api.state, "running");
    assert.is(api.health, "healthy");
    const dig = run("dig", ["@127.0.0.1", "-p", dnsPort, `api.${env}.test`, "+short"]);
    assert.is(dig.stdout.trim(), api.ip);
    ok(cilo("destroy", `basic/${env}`, "--force"), "destroy");
    assert.equal(labelled("container", `cilo.env=${env}`), []);
    assert.equal(labelled("network", `cilo.env=${env}`), []);
  } finally {
    cilo("destroy", `basic/${env}`, "--force");
  }
});

test("the installed cilo reads cilo.jsonc and cilo.json (jsonc-parser bundled from its ESM build)", () => {
  for (const [file, text] of [
    ["cilo.jsonc", (p: string) => `{\n  // comment\n  "project": "${p}",\n  "ingress": "web",\n  "hostnames": { "api": ["backend"] },\n}\n`],
    ["cilo.json", (p: string) => JSON.stringify({ project: p, ingress: "web", hostnames: { api: ["backend"] } })],
  ] as const) {
    const project = `pkgcfg-${file.replace(".", "")}-${env}`;
    const dir = join(work, project);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "docker-compose.yml"), "services:\n  web:\n    image: busybox\n  api:\n    image: busybox\n");
    writeFileSync(join(dir, file), text(project));
    try {
      const created = run(bin, ["create", env], dir);
      assert.not.match(created.stderr, /Require stack|Cannot find module/, created.stderr);
      ok(created, `create with ${file}`);
      const view = JSON.parse(ok(run(bin, ["status", `${project}/${env}`, "--json"], dir), "status"));
      assert.is(view.project, project);
      assert.is(view.base_url, `http://${project}.${env}.test`);
      const api = view.services.find((s: { name: string }) => s.name === "api");
      assert.ok(api.dns.includes(`backend.${env}.test`), JSON.stringify(api.dns));
    } finally {
      cilo("destroy", `${project}/${env}`, "--force");
    }
  }
});

test("the installed cilo: a workflow from its templates validates, and a real workflow runs", () => {
  const file = join(work, "cilo.workflow.yaml");
  ok(cilo("workflow", "new", "--template", "e2e", "--output", file), "workflow new");
  ok(cilo("workflow", "validate", file), "workflow validate");
  assert.match(ok(cilo("workflow", "list-templates"), "list-templates"), /\be2e\b/);
  const r = cilo("run", join(repoRoot, "workflows/basic-e2e.yaml"));
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /Summary of basic-e2e: success/);
  assert.equal(JSON.parse(ok(cilo("list", "--json"), "list")), []);
});

test("a global install: workflow new and config new name the installed schemas by their absolute paths", () => {
  const file = join(work, "global-wf.yaml");
  ok(cilo("workflow", "new", "--output", file), "workflow new");
  assert.is(readFileSync(file, "utf8").split("\n")[0], `# yaml-language-server: $schema=${join(installed, "schema/cilo.workflow.schema.json")}`);
  const dir = join(work, "global-cfg");
  mkdirSync(dir, { recursive: true });
  ok(cilo("config", "new", "--dir", dir), "config new");
  assert.match(readFileSync(join(dir, "cilo.jsonc"), "utf8"), `"$schema": ${JSON.stringify(join(installed, "schema/cilo.config.schema.json"))},`);
  assert.ok(existsSync(join(installed, "schema/cilo.config.schema.json")));
});

test("a project's local install: the library example passes under node --test and Deno, its types check, and the schemas are named ./node_modules/cilo/…", () => {
  const project = join(tmp, "example");
  cpSync(join(repoRoot, "examples/node-test"), project, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
  manifest.devDependencies.cilo = `file:${tarball}`;
  writeFileSync(join(project, "package.json"), JSON.stringify(manifest, null, 2));
  ok(run("npm", ["install", "--offline", "--no-audit", "--no-fund"], project), "npm install (the example)");
  assert.ok(existsSync(join(project, "node_modules/cilo/dist/lib.mjs")));

  // The types: a TypeScript consumer with Node's own module resolution, no @types installed.
  writeFileSync(
    join(project, "consumer.ts"),
    [
      'import { CiloError, createEnv, destroyEnv, runInEnv, runWorkflow, status, upEnv, type EnvView, type RunResult } from "cilo";',
      "export async function f(signal: AbortSignal): Promise<[EnvView, RunResult]> {",
      '  await createEnv({ name: "x", from: ".", signal });',
      '  const env: EnvView = await upEnv({ ref: "x", wait: true, signal });',
      "  const ip: string | null | undefined = env.services[0]?.ip;",
      '  const r = await runInEnv({ ref: "x", command: "true", signal });',
      '  await runWorkflow({ file: "wf.yaml", onEvent: (e) => e.type, signal });',
      '  await destroyEnv({ ref: "x" });',
      "  // @ts-expect-error: ref is required",
      "  await status({});",
      "  return ip === null ? [env, r] : [env, r];",
      "}",
      "export const isCilo = (e: unknown) => e instanceof CiloError && e.exitCode === 2;",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { strict: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["es2022", "dom"], types: [], noEmit: true },
      files: ["consumer.ts"],
    }),
  );
  const tsc = run(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "."], project);
  assert.is(tsc.status, 0, `tsc: ${tsc.stdout}${tsc.stderr}`);

  const node = run(process.execPath, ["--test"], project);
  assert.is(node.status, 0, `node --test: ${node.stdout}${node.stderr}`);
  assert.match(node.stdout, /# pass 4\n/);
  assert.equal(JSON.parse(ok(cilo("list", "--json"), "list")), [], "every test file's env was destroyed");

  const deno = denoBinary();
  assert.ok(existsSync(deno), `no Deno at ${deno}: run scripts/install-deno.sh or set CILO_DENO`);
  const d = run(deno, ["test", "-A", "--no-check"], project);
  assert.is(d.status, 0, `deno test: ${d.stdout}${d.stderr}`);
  assert.match(d.stdout + d.stderr, /\b4 passed \| 0 failed/);
  assert.equal(JSON.parse(ok(cilo("list", "--json"), "list")), []);

  const local = join(project, "node_modules/.bin/cilo");
  ok(run(local, ["workflow", "new", "--output", "ci/e2e.yaml"], project), "workflow new (local)");
  assert.is(
    readFileSync(join(project, "ci/e2e.yaml"), "utf8").split("\n")[0],
    "# yaml-language-server: $schema=../node_modules/cilo/schema/cilo.workflow.schema.json",
  );
  ok(run(local, ["config", "new"], project), "config new (local)");
  assert.match(readFileSync(join(project, "cilo.jsonc"), "utf8"), '"$schema": "./node_modules/cilo/schema/cilo.config.schema.json",');
});

/** Checks a prefix's `cilo` answers `--version` and runs a command that loads the bundle's chunks. */
function assertInstalled(other: string) {
  const otherBin = join(other, "bin/cilo");
  assert.ok(existsSync(otherBin), `${otherBin} exists`);
  assert.is(ok(run(otherBin, ["--version"]), "cilo --version").trim(), `cilo ${pkg.version}`);
  const root = join(other, "root");
  mkdirSync(root, { recursive: true });
  assert.match(ok(run(otherBin, ["dns", "teardown", "--dry-run", "--root", root]), "dns teardown"), /Nothing to remove/);
  assert.match(ok(run(otherBin, ["completion", "bash"]), "completion bash"), /complete -o default -F _cilo cilo/);
}

/** `bash -c <line>` with npm's global prefix set to `other`. */
function sh(line: string, other: string, extra: Record<string, string> = {}, cwd = work): SpawnSyncReturns<string> {
  return spawnSync("bash", ["-c", line], {
    cwd,
    env: { ...process.env, npm_config_prefix: other, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", ...extra },
    encoding: "utf8",
    timeout: 300_000,
  });
}

test("README: npm install -g . from the checkout, then npm uninstall -g", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const install = readme.slice(readme.indexOf("## Install"), readme.indexOf("## Uninstall"));
  assert.match(install, /^npm install -g \. /m, "README documents the checkout install");
  assert.match(install, /^npm install -g \.\/cilo-\d+\.\d+\.\d+\.tgz/m, "README documents the tarball install");
  assert.match(readme.slice(readme.indexOf("## Uninstall")), /^npm uninstall -g cilo/m);
  const other = join(tmp, "prefix-checkout");
  ok(sh("npm install -g .", other, {}, repoRoot), "npm install -g .");
  assertInstalled(other);
  ok(sh("npm uninstall -g cilo", other), "npm uninstall -g cilo");
  assert.not.ok(existsSync(join(other, "bin/cilo")), "npm uninstall -g removes the command");
});

test("templates/ci: each template's install line, run as written with CILO_PACKAGE set to the tarball", () => {
  const templates = readdirSync(join(repoRoot, "templates/ci")).sort();
  assert.equal(templates, ["github-actions.yml", "gitlab-ci.yml"]);
  for (const template of templates) {
    const text = readFileSync(join(repoRoot, "templates/ci", template), "utf8");
    const lines = text
      .split("\n")
      .filter((l) => /npm install -g/.test(l))
      .map((l) => l.replace(/^\s*(-\s+)?(run:\s*)?/, ""));
    assert.equal(lines, ['npm install -g "$CILO_PACKAGE"'], `${template}: one install line, from the CILO_PACKAGE variable`);
    assert.match(text, /CILO_PACKAGE: \S+/, `${template} sets CILO_PACKAGE`);
    const other = join(tmp, `prefix-${template}`);
    const r = sh(lines[0]!, other, { CILO_PACKAGE: tarball });
    ok(r, `${template}: ${lines[0]}`);
    assert.not.match(r.stdout + r.stderr, /install-scripts/i);
    assertInstalled(other);
  }
});

test.after(() => {
  if (existsSync(bin)) cilo("dns", "stop");
  removeDir(tmp);
});
test.run();
