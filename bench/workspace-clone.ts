// createWorkspace per clone mode on a project of 10,000 small files, against the plain tool doing
// the same job in the same run: `cp -a` of the same tree (copy; `cp -a --reflink=auto` for
// reflink) and a bare `git worktree add` (worktree). The runs alternate, the order flipping every
// round, so load that drifts hits both sides; every copy is kept until the end, as deleting
// thousands of files between runs makes the next runs wait for the disk. Median of 5 runs each.
//   node --import tsx bench/workspace-clone.ts [--runs 5] [--files 10000]
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWorkspace, type CloneMode } from "../src/core/workspace/index.ts";
import { median, printTable, sh, timeAsync, type Row } from "./lib.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg("--runs", 5);
const FILES = arg("--files", 10_000);

/** 10 files per folder, 10 folders per folder: the shape of a source tree, not one flat folder. */
function makeProject(dir: string): void {
  for (let i = 0; i < FILES; i++) {
    const folder = join(dir, `m${Math.floor(i / 1000)}`, `p${Math.floor(i / 100) % 10}`, `d${Math.floor(i / 10) % 10}`);
    if (i % 10 === 0) mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `f${i}.ts`), `export const v${i} = ${JSON.stringify("x".repeat(i % 400))};\n`);
  }
  writeFileSync(join(dir, ".ciloignore"), "*.log\n");
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Mode {
  mode: CloneMode;
  versus: string;
  /** The plain tool's run `i` into `dest`. */
  plain: (dest: string, i: number) => void;
  target: string;
  ok: (cilo: number, plain: number) => boolean;
}

const root = mkdtempSync(join(tmpdir(), "cilo-bench-ws-"));
try {
  const started = performance.now();
  const tree = join(root, "tree");
  makeProject(tree);
  // The repository lives beside the tree (tree/.git is a one-line file), so that copy and `cp -a`
  // see the same 10,000 files and the worktree runs start from the same tree.
  sh("git", ["init", "-q", `--separate-git-dir=${join(root, "tree.git")}`, tree]);
  const git = (...a: string[]) => sh("git", ["-C", tree, "-c", "user.name=b", "-c", "user.email=b@b", "-c", "gc.auto=0", ...a]);
  git("add", "-A");
  git("commit", "-q", "-m", "tree");
  git("gc", "-q");
  const fsType = sh("stat", ["-f", "-c", "%T", root]).trim();
  const setUp = performance.now() - started;

  const modes: Mode[] = [
    { mode: "copy", versus: "cp -a", plain: (d) => sh("cp", ["-a", tree, d]), target: "≤ 1.5×", ok: (c, p) => c <= 1.5 * p },
    {
      mode: "reflink",
      versus: "cp -a --reflink=auto",
      plain: (d) => sh("cp", ["-a", "--reflink=auto", tree, d]),
      target: "≤ 1.5×",
      ok: (c, p) => c <= 1.5 * p,
    },
    {
      mode: "worktree",
      versus: "git worktree add",
      plain: (d, i) => git("worktree", "add", "-q", "-b", `bench-${i}`, d, "HEAD"),
      target: "≤ +10% or +150 ms",
      ok: (c, p) => c - p <= Math.max(0.1 * p, 150),
    },
  ];
  const times = new Map(modes.map((m) => [m.mode, { cilo: [] as number[], plain: [] as number[] }]));
  const notices = new Set<string>();
  for (let i = 0; i < RUNS; i++) {
    for (const m of modes) {
      const t = times.get(m.mode)!;
      const runCilo = async () => {
        const info = await createWorkspace({
          processEnv: process.env,
          source: tree,
          dest: join(root, `${m.mode}-cilo-${i}`),
          mode: m.mode,
          env: `bench-${m.mode}-${i}`,
        });
        if (info.notice) notices.add(info.notice);
      };
      const runPlain = async () => m.plain(join(root, `${m.mode}-plain-${i}`), i);
      // The order flips every round, so the write-back of the previous run burdens both sides alike.
      for (const [list, fn] of i % 2 === 0
        ? ([
            [t.cilo, runCilo],
            [t.plain, runPlain],
          ] as const)
        : ([
            [t.plain, runPlain],
            [t.cilo, runCilo],
          ] as const)) {
        list.push(await timeAsync(fn));
      }
    }
  }
  const rows: Row[] = modes.map((m) => {
    const t = times.get(m.mode)!;
    const c = median(t.cilo);
    const p = median(t.plain);
    return { what: `createWorkspace ${m.mode}`, value: c, unit: "ms", versus: m.versus, base: p, target: m.target, ok: m.ok(c, p) };
  });
  const runs = performance.now() - started - setUp;
  printTable(`Workspace clone: ${FILES} small files on ${fsType}, median of ${RUNS} alternating runs (set-up ${seconds(setUp)}, runs ${seconds(runs)})`, rows);
  for (const n of notices) console.log(`note: ${n}`);
  for (const m of modes) {
    const t = times.get(m.mode)!;
    console.log(`${m.mode} runs (ms): cilo ${t.cilo.map((x) => x.toFixed(0)).join(" ")} | ${m.versus} ${t.plain.map((x) => x.toFixed(0)).join(" ")}`);
  }
} finally {
  const t = performance.now();
  await Promise.all(readdirSync(root).map((name) => rm(join(root, name), { recursive: true, force: true })));
  await rm(root, { recursive: true, force: true });
  console.log(`clean-up ${seconds(performance.now() - t)}`);
}
