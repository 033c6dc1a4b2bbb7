// cilo's test runner: builds the CLI, prepares the real Docker engine / compose / dnsmasq
// (scripts/test-env.sh), runs the unit files together in one process (scripts/unit-runner.mjs:
// tsx starts once) and every integration file in its own process (uvu suites under tsx), and ends
// with one line "N passed, N failed".
//   node scripts/test.mjs            all tests
//   node scripts/test.mjs --unit     unit tests only (no Docker needed)
//   node scripts/test.mjs <filter>   files whose path contains <filter>
// Engine matrix: the files in PODMAN_MATRIX run a second time against Podman (CILO_TEST_ENGINE=podman,
// test/helpers/engine.ts; scripts/test-podman.sh prepares it), and the run prints the count per
// engine. Which engines: CILO_TEST_ENGINES (default docker; docker,podman: both, as .ci/run does;
// podman: only the Podman pass).
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { stripVTControlCharacters } from "node:util";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const unitOnly = args.includes("--unit");
const filters = args.filter((a) => !a.startsWith("--"));

function find(dir) {
  const out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const unit = find(join(root, "test/unit"));
// test/deno/: the CLI run under Deno (`deno run -A src/main.ts`), after the integration files.
const integration = unitOnly ? [] : [...find(join(root, "test/integration")), ...find(join(root, "test/deno"))];
const pick = (files) => (filters.length === 0 ? files : files.filter((f) => filters.some((x) => f.includes(x))));
const unitFiles = pick(unit);
// Files that run on Podman too (same files, CILO_TEST_ENGINE=podman), and files only for Podman.
// Not dns-live-updates or workflow-host: they never reach the engine (green on Podman all the same);
// not gateway-stream, gateway-reload, gateway-workflow or reaper-workflow: green on Podman when run
// by hand, left out to save CI time (the same gateway and reaper code as the files above); not
// gateway-remote or gateway-tcp-engine: they drive the second Docker engine, not the pass's.
const PODMAN_MATRIX = [
  "test/integration/lifecycle.test.ts",
  "test/integration/dns-dnsmasq.test.ts",
  "test/integration/workflow-env.test.ts",
  "test/integration/doctor-gc.test.ts",
  "test/integration/doctor-repair.test.ts",
  "test/integration/gateway.test.ts",
  "test/integration/gateway-tcp.test.ts",
  "test/integration/gateway-tls.test.ts",
  "test/integration/shared.test.ts",
  "test/integration/reaper-ephemeral.test.ts",
];
const PODMAN_ONLY = ["test/integration/engine-podman.test.ts"];
// Local runs default to Docker alone (the Podman pass adds minutes); .ci/run runs both.
const engines = (process.env.CILO_TEST_ENGINES ?? "docker").split(",").map((e) => e.trim());
const integrationFiles = pick(integration).filter((f) => engines.includes("docker") && !PODMAN_ONLY.includes(relative(root, f)));
const podmanFiles = engines.includes("podman")
  ? pick(integration).filter((f) => PODMAN_MATRIX.includes(relative(root, f)) || PODMAN_ONLY.includes(relative(root, f)))
  : [];

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];

function step(cmd, argv, what) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`test: ${what} failed (exit ${r.status ?? r.signal})`);
    console.log(`${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  }
}

step(process.execPath, ["scripts/build.mjs"], "build");
if (integrationFiles.length + podmanFiles.length > 0 && process.env.CILO_SKIP_TEST_ENV !== "1") {
  step("bash", ["scripts/test-env.sh"], "test environment set-up (Docker engine, compose, dnsmasq)");
}

function runFile(file, engineEnv = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", file], {
      cwd: root,
      // No gateway (it would publish port 80 for every test home) unless a test asks for it with
      // CILO_GATEWAY=on, as test/integration/gateway.test.ts does.
      env: { CILO_GATEWAY: "off", ...process.env, ...engineEnv, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code, signal) => {
      const text = stripVTControlCharacters(out);
      const num = (label) => {
        const m = new RegExp(`${label}:\\s+(\\d+)`).exec(text);
        return m ? Number(m[1]) : undefined;
      };
      const total = num("Total");
      const ok = num("Passed");
      const skip = num("Skipped") ?? 0;
      let p = 0;
      let f = 0;
      if (total === undefined || ok === undefined) {
        f = 1; // the file crashed before uvu could report
      } else {
        p = ok;
        f = total - ok - skip;
        if (code !== 0 && f === 0) f = 1;
      }
      resolve({ file, text, p, f, skip, code, signal, ms: Date.now() - started });
    });
  });
}

function report(r, label = "") {
  passed += r.p;
  failed += r.f;
  skipped += r.skip;
  const name = `${relative(root, r.file)}${label}`;
  const secs = (r.ms / 1000).toFixed(1);
  if (r.f > 0) {
    failures.push(name);
    console.log(`FAIL ${name} (${r.p} passed, ${r.f} failed, ${secs}s)`);
    console.log(
      r.text
        .trimEnd()
        .split("\n")
        .map((l) => `    ${l}`)
        .join("\n"),
    );
  } else {
    console.log(`ok   ${name} (${r.p} passed${r.skip ? `, ${r.skip} skipped` : ""}, ${secs}s)`);
    // What a test measured (its own console.log lines) is shown; uvu's progress and totals are not.
    const own =
      process.env.CILO_TEST_VERBOSE === "1"
        ? r.text.trimEnd().split("\n")
        : r.text.split("\n").filter((l) => l.trim() && !/^\s*(Total|Passed|Skipped|Duration):/.test(l) && !/^[\s•✘]*(\(\d+ \/ \d+\))?\s*$/.test(l));
    if (own.length > 0) console.log(own.map((l) => `     | ${l.replace(/^[\s•✘]+/, "")}`).join("\n"));
  }
}

/**
 * All unit files in one tsx process (they share no process-wide state: see test/helpers/context.ts);
 * each file's result comes back as a `@@cilo-unit {json}` line, the output before it is that file's.
 */
function runUnitFiles(files) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/unit-runner.mjs", ...files], {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code, signal) => {
      const results = [];
      let text = "";
      for (const line of stripVTControlCharacters(out).split("\n")) {
        const m = /^@@cilo-unit (\{.*\})$/.exec(line);
        if (!m) {
          text += `${line}\n`;
          continue;
        }
        const r = JSON.parse(m[1]);
        const f = r.total - r.passed - r.skipped;
        results.push({ file: r.file, text: r.errors ? `${text}\n${r.errors}` : text, p: r.passed, f, skip: r.skipped, code: f > 0 ? 1 : 0, ms: r.ms });
        text = "";
      }
      // The runner died before reporting every file: the rest (or the run) failed.
      const reported = new Set(results.map((r) => r.file));
      for (const file of files.filter((x) => !reported.has(x))) {
        results.push({
          file,
          text: `${text}\n(the unit runner ended with ${signal ?? `exit ${code}`} before this file reported)`,
          p: 0,
          f: 1,
          skip: 0,
          code,
          ms: 0,
        });
      }
      if (results.length === files.length && code !== 0 && results.every((r) => r.f === 0)) {
        results.push({ file: join(root, "scripts/unit-runner.mjs"), text, p: 0, f: 1, skip: 0, code, ms: Date.now() - started });
      }
      resolve(results);
    });
  });
}

// Unit files together in one process (pure logic); integration files one at a time (they share one engine).
if (unitFiles.length > 0) for (const r of await runUnitFiles(unitFiles)) report(r);
const perEngine = [];
const counted = async (engine, files, run) => {
  const [p0, f0] = [passed, failed];
  for (const f of files) await run(f);
  perEngine.push(`${engine}: ${passed - p0} passed, ${failed - f0} failed (${files.length} files)`);
};
if (integrationFiles.length > 0) await counted("docker", integrationFiles, async (f) => report(await runFile(f)));
if (podmanFiles.length > 0) {
  // Podman's API service and the test images in it (scripts/test-podman.sh prints the socket).
  const setup = spawnSync("bash", ["scripts/test-podman.sh"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const host = setup.stdout.trim().split("\n").pop() ?? "";
  if (setup.status === 0 && host.startsWith("unix://")) {
    const env = { CILO_TEST_ENGINE: "podman", CILO_TEST_PODMAN_HOST: host };
    await counted("podman", podmanFiles, async (f) => report(await runFile(f, env), " [podman]"));
  } else if (process.env.CI === "true") {
    failed += 1;
    failures.push("scripts/test-podman.sh (the Podman pass could not start)");
    perEngine.push("podman: the pass could not start (scripts/test-podman.sh failed)");
  } else {
    console.log(`test: the Podman pass is skipped: scripts/test-podman.sh failed (exit ${setup.status}); CI=true makes this a failure`);
    perEngine.push("podman: skipped (scripts/test-podman.sh failed)");
  }
}
if (perEngine.length > 0) console.log(`\nper engine: ${perEngine.join("; ")}`);

if (failures.length > 0) console.log(`\nfailed files:\n${failures.map((f) => `  ${f}`).join("\n")}`);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
