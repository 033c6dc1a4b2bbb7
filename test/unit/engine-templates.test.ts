import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CiloError } from "../../src/core/errors.ts";
import { isDnsLabel } from "../../src/core/names.ts";
import { loadWorkflow } from "../../src/workflow/load.ts";
import { planWorkflow } from "../../src/workflow/plan.ts";
import { defaultEnvName } from "../../src/workflow/run-envs.ts";
import { listTemplates, newFromTemplate, templatesDir } from "../../src/workflow/templates.ts";

const root = new URL("../../", import.meta.url).pathname;

test("the templates: e2e, agent, preview as workflows, GitHub and GitLab CI snippets, each described", () => {
  const all = listTemplates();
  assert.equal(
    all.map((t) => [t.name, t.kind]),
    [
      ["agent", "workflow"],
      ["e2e", "workflow"],
      ["preview", "workflow"],
      ["ci/github-actions", "ci"],
      ["ci/gitlab-ci", "ci"],
    ],
  );
  for (const t of all) assert.ok(t.description.length > 20, `${t.name}: ${t.description}`);
  assert.is(templatesDir(), join(root, "templates/"));
});

test("every workflow template and every workflow of workflows/ loads and validates", async () => {
  const files = [
    ...listTemplates()
      .filter((t) => t.kind === "workflow")
      .map((t) => t.path),
    ...readdirSync(join(root, "workflows"))
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => join(root, "workflows", f)),
  ];
  assert.ok(files.length >= 5);
  for (const file of files) {
    const loaded = await loadWorkflow(file);
    assert.ok(planWorkflow(loaded).length > 0, file);
  }
});

test("the CI snippets are YAML that run a workflow with cilo run", () => {
  for (const t of listTemplates().filter((x) => x.kind === "ci")) {
    const text = readFileSync(t.path, "utf8");
    assert.ok(parse(text), t.name);
    assert.match(text, /cilo run cilo\.workflow\.yaml .*--junit/);
  }
});

test("new copies the e2e template to cilo.workflow.yaml, never overwrites, and names unknown templates", () => {
  const cwd = mkdtempSync(join(tmpdir(), "cilo-tpl-"));
  try {
    const made = newFromTemplate({ cwd });
    assert.is(made.path, join(cwd, "cilo.workflow.yaml"));
    // The template, after the modeline naming the schema of this cilo (here a checkout: its absolute path).
    assert.is(
      readFileSync(made.path, "utf8"),
      `# yaml-language-server: $schema=${join(root, "schema/cilo.workflow.schema.json")}\n${readFileSync(join(root, "templates/e2e.yaml"), "utf8")}`,
    );
    try {
      newFromTemplate({ cwd });
      assert.unreachable("overwrote");
    } catch (e) {
      assert.instance(e, CiloError);
      assert.is((e as CiloError).exitCode, 2);
    }
    const gh = newFromTemplate({ cwd, template: "ci/github-actions" });
    assert.is(gh.path, join(cwd, ".github/workflows/cilo.yml"));
    assert.not.match(readFileSync(gh.path, "utf8"), /yaml-language-server/, "a CI snippet is not a cilo workflow: no cilo schema");
    newFromTemplate({ cwd, template: "agent", output: "jobs/agent.yaml" });
    assert.ok(existsSync(join(cwd, "jobs/agent.yaml")));
    try {
      newFromTemplate({ cwd, template: "preveiw" });
      assert.unreachable("unknown template");
    } catch (e) {
      assert.match((e as Error).message, /no template "preveiw" \(did you mean "preview"\?\)/);
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test("default env names: <workflow>-<6 hex>, always a valid DNS label", () => {
  for (const name of ["api-e2e", "My Workflow!", "ümlaut", "x".repeat(80), "--", "CI/CD pipeline"]) {
    const env = defaultEnvName(name);
    assert.ok(isDnsLabel(env), env);
    assert.match(env, /-[0-9a-f]{6}$/);
  }
  assert.match(defaultEnvName("API e2e"), /^api-e2e-[0-9a-f]{6}$/);
  assert.match(defaultEnvName("!!!"), /^workflow-[0-9a-f]{6}$/);
  assert.is.not(defaultEnvName("a"), defaultEnvName("a"));
});

test.run();
