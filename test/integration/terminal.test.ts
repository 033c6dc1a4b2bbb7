// cilo in a real terminal (tmux), as a user sees it: the listr2 screen. A failed step's last lines
// stay on screen under the summary (they would have scrolled away), and the first Ctrl-C says at
// once that a second one stops everything, while the clean-up still runs.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ciloCommand, removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { until } from "../helpers/until.ts";

const fixtures = join(repoRoot, "test/fixtures/engine");
const home = tempDir("cilo-tty-home-");
const work = tempDir("cilo-tty-work-");
const socket = `cilo-tty-${process.pid}`;

function tmux(...args: string[]): string {
  const r = spawnSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
  assert.is(r.status, 0, `tmux ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Starts `cilo <args>` in a fresh 120×50 terminal; the exit code lands in `<work>/<name>.exit`. */
function start(name: string, args: string[]): string {
  const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const cmd = [...ciloCommand(), ...args].map(q).join(" ");
  // Without CI (the suite may run with CI=true, which picks the plain renderer).
  const line = `env -u CI -u NO_COLOR CILO_HOME=${q(home)} WORK_DIR=${q(work)} TERM=xterm-256color ${cmd}; echo $? > ${q(join(work, `${name}.exit`))}; sleep 600`;
  tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "50", line);
  return name;
}

/** The terminal's text, scrollback included. */
function screen(session: string): string {
  return tmux("capture-pane", "-p", "-J", "-S", "-300", "-t", session);
}

/** Waits for `probe` to give a value (see test/helpers/until.ts) and returns it. */
async function waitFor<T>(probe: () => T | undefined | false, ms: number, what: string): Promise<T> {
  let v: T | undefined | false;
  await until(
    what,
    () => {
      v = probe();
      return Boolean(v);
    },
    { timeoutMs: ms },
  );
  return v as T;
}

const exitOf = (name: string) => {
  const f = join(work, `${name}.exit`);
  return existsSync(f) && readFileSync(f, "utf8").trim() !== "" ? Number(readFileSync(f, "utf8")) : undefined;
};

test.before(() => {
  const v = spawnSync("tmux", ["-V"], { encoding: "utf8" });
  assert.is(v.status, 0, "tmux is needed to give cilo a real terminal (scripts/test-env.sh installs it)");
});

test.after(() => {
  spawnSync("tmux", ["-L", socket, "kill-server"]);
  removeDir(home);
  removeDir(work);
});

test("a failed step's last 30 lines stay on screen under the summary", async () => {
  const s = start("tail", ["run", join(fixtures, "tail.yaml")]);
  const code = await waitFor(() => exitOf("tail"), 60_000, "cilo run ends");
  assert.is(code, 1);
  const text = screen(s);
  assert.match(text, /Summary of tail: failure/, text);
  const after = text.slice(text.indexOf("Summary of tail"));
  assert.match(after, /Last 30 lines of \[1\] tests:\n {2}output line 11\n/, after);
  assert.match(after, / {2}output line 40\n/);
  assert.not.match(after, /output line 10\n/, "only the last 30");
});

test("the first Ctrl-C says at once that a second one stops everything, while the clean-up runs", async () => {
  const s = start("sigint", ["run", join(fixtures, "abandon.yaml")]);
  await waitFor(() => existsSync(join(work, "step")), 60_000, "the first step starts");
  tmux("send-keys", "-t", s, "C-c");
  const t0 = Date.now();
  await waitFor(() => /interrupt again to stop\s+at\s+once/.test(screen(s)), 5_000, "the notice shows").catch((e) => {
    throw new Error(`${e.message}; the screen:\n${screen(s)}`);
  });
  const shownAfter = Date.now() - t0;
  // The clean-up step (sleep 30) is still running: the notice did not wait for it.
  await waitFor(() => existsSync(join(work, "cleanup")), 10_000, "the clean-up step starts");
  assert.is(exitOf("sigint"), undefined, "cilo is still running its clean-up");
  tmux("send-keys", "-t", s, "C-c");
  const code = await waitFor(() => exitOf("sigint"), 10_000, "the second Ctrl-C ends the run");
  assert.is(code, 130);
  console.log(`  the notice was on screen ${shownAfter} ms after Ctrl-C`);
});

test("piped: the plain summary shows the same tail, and --json's step_end carries it as log_tail", () => {
  const run = (extra: string[]) =>
    spawnSync(ciloCommand()[0]!, [...ciloCommand().slice(1), "run", join(fixtures, "tail.yaml"), ...extra], {
      encoding: "utf8",
      env: { ...process.env, CILO_HOME: home, NO_COLOR: "1" },
    });
  const plain = run([]);
  assert.is(plain.status, 1, plain.stderr);
  assert.match(plain.stdout, /Last 30 lines of \[1\] tests:\n {2}output line 11\n[\s\S]* {2}output line 40\n/);
  const json = run(["--json"]);
  const end = json.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .find((e) => e.type === "step_end" && e.path === "1");
  assert.is(end.outcome, "failure");
  assert.is(end.log_tail.length, 30);
  assert.is(end.log_tail[0], "output line 11");
  assert.is(end.log_tail.at(-1), "output line 40");
});

test.run();
