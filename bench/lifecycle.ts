// `cilo up` against the bare compose CLI on the same rendered file (examples/basic), alternated,
// median of N; and `cilo create` per clone mode for a project of 10,000 small files against
// `cp -a` of the same tree. Run: node --import tsx bench/lifecycle.ts [--runs 10] [--files 10000]
// [--skip-create] (only the up rows, while iterating on up) [--baseline <checkout>] (an earlier
// build, <checkout>/dist/cilo.mjs, timed in the same alternation on the same home: before/after);
// without --baseline and with NODE_EXTRA_CA_CERTS set, the same build without it, in the same way.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alternateUps, median, printTable, sh, timeMs, type Row } from "./lib.ts";

const root = new URL("..", import.meta.url).pathname;
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg("--runs", 10);
const FILES = arg("--files", 10_000);
const SKIP_CREATE = process.argv.includes("--skip-create");
const UP_TARGET = 1.05;
const BASELINE = process.argv.includes("--baseline") ? process.argv[process.argv.indexOf("--baseline") + 1] : undefined;
const home = mkdtempSync(join(tmpdir(), "cilo-bench-"));
const env: NodeJS.ProcessEnv = { ...process.env, CILO_HOME: home };
const cilo = (...a: string[]) => sh(process.execPath, [join(root, "dist/cilo.mjs"), ...a], { env });
const baseline = BASELINE ? (...a: string[]) => sh(process.execPath, [join(BASELINE, "dist/cilo.mjs"), ...a], { env }) : undefined;
// Node 20 parses the whole NODE_EXTRA_CA_CERTS bundle at every start (this machine sets it): without
// --baseline, the same build runs without it in the same alternation, to show what that costs up.
const { NODE_EXTRA_CA_CERTS: ca, ...envNoCa } = env;
const noCa = !BASELINE && ca ? (...a: string[]) => sh(process.execPath, [join(root, "dist/cilo.mjs"), ...a], { env: envNoCa }) : undefined;

const rows: Row[] = [];
try {
  cilo("init", "--dns-port", String(20000 + Math.floor(Math.random() * 20000)));
  // --- up overhead -----------------------------------------------------------------------
  cilo("create", "bench-up", "--from", join(root, "examples/basic"));
  cilo("up", "basic/bench-up", "--wait"); // warms the compose CLI and model caches
  cilo("down", "basic/bench-up");
  const {
    cilo: cu,
    compose: bu,
    baseline: bl,
    rounds,
  } = alternateUps({
    cilo,
    env: "basic/bench-up",
    workspace: join(home, "envs/basic/bench-up"),
    // Its own compose project per run: two runs on one engine (other homes) do not share containers.
    project: `bench_up_${process.pid}`,
    runs: RUNS,
    ...(baseline ? { baseline } : noCa ? { baseline: noCa } : {}),
  });
  rows.push({
    what: "cilo up (examples/basic, 3 services)",
    value: cu,
    unit: "ms",
    versus: "docker-compose up -d, same file",
    base: bu,
    target: `≤ ${UP_TARGET}×`,
    ok: cu <= UP_TARGET * bu,
  });
  if (bl !== undefined && noCa) {
    rows.push({
      what: "cilo up without NODE_EXTRA_CA_CERTS (Node parses it at every start)",
      value: bl,
      unit: "ms",
      versus: "docker-compose up -d, same file",
      base: bu,
      target: "report",
      ok: true,
    });
  } else if (bl !== undefined) {
    rows.push({
      what: "cilo up (examples/basic, 3 services)",
      value: cu,
      unit: "ms",
      versus: `baseline ${BASELINE}`,
      base: bl,
      target: "report",
      ok: true,
    });
  }
  // On a shared machine the load drifts over minutes; the runs of one round are seconds apart.
  const perRound = (of: (r: (typeof rounds)[number]) => number | undefined) => rounds.map((r) => r.cilo / of(r)!).map((x) => Math.round(x * 100) / 100);
  console.log(`cilo up ÷ compose up, per round: ${perRound((r) => r.compose).join(" ")} (median ${median(perRound((r) => r.compose)).toFixed(2)}×)`);
  if (bl !== undefined)
    console.log(
      `cilo up ÷ ${noCa ? "the same without NODE_EXTRA_CA_CERTS" : "baseline up"}, per round: ${perRound((r) => r.baseline).join(" ")} (median ${median(perRound((r) => r.baseline)).toFixed(2)}×)`,
    );
  cilo("destroy", "basic/bench-up", "--force");

  // --- create per clone mode (not with --skip-create) ------------------------------------
  if (!SKIP_CREATE) {
    const src = mkdtempSync(join(tmpdir(), "cilo-bench-src-"));
    writeFileSync(join(src, "compose.yml"), "services:\n  app:\n    image: cilo-test/busybox:latest\n    command: sleep 600\n");
    for (let i = 0; i < FILES; i++) {
      const dir = join(src, "files", String(i % 100));
      if (i < 100) mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `f${i}.txt`), `file ${i}\n`);
    }
    sh("git", ["init", "-q"], { cwd: src });
    // No automatic gc: one running in the background would repack objects while `cp -a` reads them.
    const git = (...a: string[]) => sh("git", ["-c", "user.name=b", "-c", "user.email=b@b", "-c", "gc.auto=0", ...a], { cwd: src });
    git("add", "-A");
    git("commit", "-qm", "tree");
    const cp: number[] = [];
    for (let i = 0; i < 3; i++) {
      const dest = join(home, `cp-${i}`);
      cp.push(timeMs(() => sh("cp", ["-a", src, dest])));
      rmSync(dest, { recursive: true, force: true });
    }
    const cpMs = median(cp);
    for (const mode of ["copy", "reflink", "worktree"]) {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        times.push(timeMs(() => cilo("create", `c-${mode}-${i}`, "--from", src, "--project", "big", "--clone", mode)));
        cilo("destroy", `big/c-${mode}-${i}`, "--force");
      }
      const t = median(times);
      rows.push({
        what: `cilo create --clone ${mode} (${FILES} files)`,
        value: t,
        unit: "ms",
        versus: "cp -a of the same tree",
        base: cpMs,
        target: "report",
        ok: true,
      });
    }
    rmSync(src, { recursive: true, force: true });
  }
} finally {
  // A run that failed half-way leaves no env behind: its home is removed below.
  try {
    cilo("destroy", "basic/bench-up", "--force");
  } catch {
    /* none */
  }
  try {
    cilo("dns", "stop");
  } catch {
    /* not running */
  }
  rmSync(home, { recursive: true, force: true });
}
printTable(`lifecycle (median of ${RUNS} alternated runs for up${SKIP_CREATE ? "" : ", 3 for create"})`, rows);
