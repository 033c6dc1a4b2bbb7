// Every project config format (SPEC §4) read by the built CLI: `.cilo/config.yml`,
// `.cilo/config.yaml`, `cilo.jsonc` and `cilo.json`. Each project sets its own `project` name,
// `ingress` and `hostnames`; `cilo create` then `status --json` / `list --json` show they took
// effect. jsonc-parser's UMD build once got bundled, so the JSON formats failed with
// "Cannot find module './impl/format'" and a require stack.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, tempDir } from "../helpers/cli.ts";
import { freePort } from "../helpers/docker.ts";

const home = tempDir("cilo-cfgfmt-");
const work = tempDir("cilo-cfgfmt-src-");
const suffix = Math.random().toString(36).slice(2, 7);
const envName = `cf-${suffix}`;
const compose = "services:\n  web:\n    image: busybox\n  api:\n    image: busybox\n";

interface Format {
  file: string;
  text: (project: string) => string;
}

const yamlText = (project: string) => `# the project's config\nproject: ${project}\ningress: web\nhostnames:\n  api: [backend]\n`;
const formats: Format[] = [
  { file: ".cilo/config.yml", text: yamlText },
  { file: ".cilo/config.yaml", text: yamlText },
  {
    file: "cilo.jsonc",
    text: (project) =>
      `{\n  // the project's config\n  "project": "${project}",\n  /* block comment */ "ingress": "web",\n  "hostnames": { "api": ["backend"], },\n}\n`,
  },
  { file: "cilo.json", text: (project) => JSON.stringify({ project, ingress: "web", hostnames: { api: ["backend"] } }, null, 2) },
];

const projectOf = (f: Format) => `cfgfmt-${suffix}-${f.file.replace(/[^a-z]/g, "")}`;
const created: string[] = [];

function noStack(r: { stdout: string; stderr: string }) {
  assert.not.match(r.stderr + r.stdout, /Require stack|Cannot find module|node_modules|dist\/chunks/, r.stderr);
}

test.before(async () => {
  const port = await freePort();
  const r = cilo(["init", "--dns-port", String(port)], { home });
  assert.is(r.code, 0, r.stderr);
});

for (const format of formats) {
  test(`${format.file}: create, status --json and list --json use its project, ingress and hostnames`, () => {
    const project = projectOf(format);
    const dir = join(work, format.file.replace(/[^a-z]/g, ""));
    mkdirSync(dirname(join(dir, format.file)), { recursive: true });
    writeFileSync(join(dir, "docker-compose.yml"), compose);
    writeFileSync(join(dir, format.file), format.text(project));
    const c = cilo(["create", envName], { home, cwd: dir });
    noStack(c);
    assert.is(c.code, 0, c.stderr);
    created.push(`${project}/${envName}`);
    assert.match(c.stdout, `Created ${project}/${envName}`);

    const s = cilo(["status", `${project}/${envName}`, "--json"], { home, cwd: dir });
    assert.is(s.code, 0, s.stderr);
    const view = JSON.parse(s.stdout);
    assert.is(view.project, project);
    assert.is(view.base_url, `http://${project}.${envName}.test`);
    const dns = Object.fromEntries(view.services.map((x: { name: string; dns: string[] }) => [x.name, x.dns]));
    assert.equal(dns["api"], [`api.${envName}.test`, `backend.${envName}.test`]);
    assert.equal(dns["web"], [`web.${envName}.test`, `${project}.${envName}.test`, `*.${project}.${envName}.test`]);

    const l = cilo(["list", "--json"], { home, cwd: dir });
    assert.is(l.code, 0, l.stderr);
    const mine = JSON.parse(l.stdout).find((e: { project: string; name: string }) => e.project === project && e.name === envName);
    assert.ok(mine, l.stdout);
    assert.equal(
      mine.services.map((s: { name: string }) => s.name),
      ["api", "web"],
    );
  });
}

test("a cilo.jsonc with a syntax error: exit 2, one line naming the file and the position, no stack", () => {
  const dir = join(work, "broken");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "docker-compose.yml"), compose);
  writeFileSync(join(dir, "cilo.jsonc"), `{\n  "project": "cfgfmt-${suffix}-broken"\n  "ingress": "web"\n}\n`);
  const r = cilo(["create", envName], { home, cwd: dir });
  noStack(r);
  assert.is(r.code, 2, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^cilo: The config file .*cilo\.jsonc cannot be parsed: CommaExpected at line 3, column 3$/);
});

test.after(() => {
  for (const ref of created) cilo(["destroy", ref, "--force"], { home });
  cilo(["dns", "stop"], { home });
  removeDir(home);
  removeDir(work);
});
test.run();
