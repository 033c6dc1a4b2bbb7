// The doctor findings registry (issue 13): one entry per id, documented, and fixes that read a structured target.
import { testContext } from "../helpers/context.ts";
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { applyFixes, wantsFix } from "../../src/core/reconcile/apply-fixes.ts";
import { subjectOf, type FindingId } from "../../src/core/reconcile/finding.ts";
import { finding, findingDef, FINDINGS } from "../../src/core/reconcile/findings/index.ts";

const ids = Object.keys(FINDINGS) as FindingId[];

/** The rows of the findings table in docs/doctor.md: id -> its severity cell. */
function documented(): Map<string, string> {
  const doc = readFileSync(new URL("../../docs/doctor.md", import.meta.url), "utf8");
  const table = doc.slice(doc.indexOf("### Findings"), doc.indexOf("Fixes run in dependency order"));
  const rows = new Map<string, string>();
  for (const line of table.split("\n").filter((l) => l.startsWith("| `"))) {
    const [, idCell, severity] = line.split("|").map((c) => c.trim());
    for (const m of idCell!.matchAll(/`([a-z-]+)`/g)) rows.set(m[1]!, severity!);
  }
  return rows;
}

test("every finding of the registry is in docs/doctor.md with its severity, and the docs name no other", () => {
  const rows = documented();
  for (const id of ids) {
    const def = findingDef(id);
    assert.ok(rows.has(id), `${id} is not in the findings table of docs/doctor.md`);
    assert.is(rows.get(id), def.prerequisite ? `${def.severity} (exit 3)` : def.severity, id);
  }
  assert.equal(
    [...rows.keys()].filter((id) => !(id in FINDINGS)),
    [],
    "documented findings missing from the registry",
  );
});

test("each entry is whole: a one-line description, a fix unless it is never fixed, prerequisites are errors", () => {
  for (const id of ids) {
    const def = findingDef(id);
    assert.ok(def.describe.length > 0 && !def.describe.includes("\n"), id);
    if (def.prerequisite) assert.is(def.severity, "error", id);
    if (!def.fix) assert.is(def.phase, 10, `${id} has no fix: it sorts last`);
  }
});

test("a finding takes its severity from the registry and its subject from its target", () => {
  const f = finding("container-orphaned", { kind: "docker", resource: "container", id: "c1", name: "cilo_x_y_api_1" }, "m", "remove the container");
  assert.is(f.severity, "warning");
  assert.is(f.subject, "cilo_x_y_api_1");
  assert.is(subjectOf({ kind: "env", project: "shop", env: "feat-x" }), "shop/feat-x");
  assert.is(subjectOf({ kind: "shared-user", project: "shop", service: "db", user: "a" }), "shop/db (shared)");
  assert.is(subjectOf({ kind: "component", name: "state.json" }), "state.json");
  assert.is(subjectOf({ kind: "path", path: "/h/state.json.lock" }), "/h/state.json.lock");
});

test("--fix skips findings without a fix line, and resource-foreign without --foreign", () => {
  const foreign = finding("resource-foreign", { kind: "docker", resource: "volume", id: "v", name: "v" }, "m", "remove the volume (only with --foreign)");
  assert.ok(!wantsFix(foreign, {}));
  assert.ok(wantsFix(foreign, { foreign: true }));
  assert.ok(!wantsFix(finding("env-workspace-missing", { kind: "env", project: "p", env: "e" }, "m", null), {}));
});

test("a finding without an automatic fix fails with E_NO_FIX instead of guessing", async () => {
  const f = finding("env-failed", { kind: "env", project: "p", env: "e" }, "m", "pretend");
  const report = await applyFixes(testContext({ home: "/nonexistent-cilo-home" }), [f]);
  assert.equal(report.fixed, []);
  assert.equal(report.failed, [{ id: "env-failed", subject: "p/e", message: "env-failed has no automatic fix" }]);
});

test.run();
