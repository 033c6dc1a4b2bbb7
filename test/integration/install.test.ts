// Installing cilo the ways README.md ("Install", "Uninstall") and the CI templates document: a
// fresh `npm pack`, `npm install -g` of the tarball and of the checkout into a temporary prefix,
// each template's own install line run as written, then `cilo --version` and `cilo dns teardown`
// from the installed command. The tarball is self-contained and carries no install script (npm
// 11 warns about those on every global install).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { removeDir, repoRoot, tempDir } from "../helpers/cli.ts";

const work = tempDir("cilo-install-");
const version = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string }).version;

interface Sh {
  code: number;
  out: string;
}

function sh(cmd: string, env: Record<string, string> = {}, cwd = repoRoot): Sh {
  const r = spawnSync("bash", ["-c", cmd], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", ...env },
    timeout: 180_000,
  });
  return { code: r.status ?? 1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

let tarball = "";

test.before(() => {
  const r = sh(`npm pack --pack-destination ${JSON.stringify(work)}`);
  assert.is(r.code, 0, r.out);
  const tgz = readdirSync(work).filter((f) => f.endsWith(".tgz"));
  assert.equal(tgz, [`cilo-${version}.tgz`], r.out);
  tarball = join(work, tgz[0]!);
});

test.after(() => removeDir(work));

/** Checks a prefix's `cilo` runs, answers `--version` and reaches a command that loads the bundle's chunks. */
function assertInstalled(prefix: string) {
  const bin = join(prefix, "bin/cilo");
  assert.ok(existsSync(bin), `${bin} exists`);
  const v = sh(`${JSON.stringify(bin)} --version`);
  assert.is(v.code, 0, v.out);
  assert.is(v.out.trim(), `cilo ${version}`);
  const root = tempDir("cilo-install-root-");
  try {
    const t = sh(`${JSON.stringify(bin)} dns teardown --dry-run --root ${JSON.stringify(root)}`, { CILO_HOME: join(root, "home") });
    assert.is(t.code, 0, t.out);
    assert.match(t.out, /Nothing to remove/);
  } finally {
    removeDir(root);
  }
}

test("the packed tarball installs globally with no install-script warning and runs", () => {
  const prefix = join(work, "prefix-tgz");
  const r = sh(`npm install -g ${JSON.stringify(tarball)}`, { npm_config_prefix: prefix });
  assert.is(r.code, 0, r.out);
  assert.not.match(r.out, /install-scripts|allow-scripts|prepare/i, r.out);
  assertInstalled(prefix);
  // The tarball carries what the CLI needs and nothing of the sources.
  const pkg = join(prefix, "lib/node_modules/cilo");
  for (const f of ["bin/cilo.mjs", "dist/cilo.mjs", "schema/cilo.workflow.schema.json", "templates/e2e.yaml"]) assert.ok(existsSync(join(pkg, f)), f);
  assert.not.ok(existsSync(join(pkg, "src")), "no sources in the package");
  // Uninstall, as README's Uninstall section says.
  const u = sh("npm uninstall -g cilo", { npm_config_prefix: prefix });
  assert.is(u.code, 0, u.out);
  assert.not.ok(existsSync(join(prefix, "bin/cilo")), "npm uninstall -g removes the command");
});

test("README: npm install -g . from the checkout puts cilo on PATH", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const install = readme.slice(readme.indexOf("## Install"), readme.indexOf("## Uninstall"));
  assert.match(install, /^npm install -g \. /m, "README documents the checkout install");
  assert.match(install, /^npm install -g \.\/cilo-\d+\.\d+\.\d+\.tgz/m, "README documents the tarball install");
  const prefix = join(work, "prefix-checkout");
  const r = sh("npm install -g .", { npm_config_prefix: prefix });
  assert.is(r.code, 0, r.out);
  assertInstalled(prefix);
});

for (const template of readdirSync(join(repoRoot, "templates/ci")).sort()) {
  test(`templates/ci/${template}: its install line, run as written with CILO_PACKAGE set to the tarball`, () => {
    const text = readFileSync(join(repoRoot, "templates/ci", template), "utf8");
    const lines = text
      .split("\n")
      .filter((l) => /npm install -g/.test(l))
      .map((l) => l.replace(/^\s*(-\s+)?(run:\s*)?/, ""));
    assert.equal(lines, ['npm install -g "$CILO_PACKAGE"'], "one install line, from the CILO_PACKAGE variable");
    assert.match(text, /CILO_PACKAGE: \S+/, "the template sets CILO_PACKAGE");
    const prefix = join(work, `prefix-${template}`);
    const r = sh(lines[0]!, { CILO_PACKAGE: tarball, npm_config_prefix: prefix }, work);
    assert.is(r.code, 0, r.out);
    assert.not.match(r.out, /install-scripts/i, r.out);
    assertInstalled(prefix);
  });
}

test.run();
