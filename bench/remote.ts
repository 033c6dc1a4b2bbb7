// Envs on a remote host (issue 17, docs/remote.md), against what a user would run by hand over the
// same SSH setup: the test bed's host ssh://root@10.213.77.2 (scripts/test-remote.sh: the second
// engine reached through its sshd; the ssh wrapper on PATH, one shared ControlMaster connection).
//  1. `cilo sync <env>` of a 10,000-file workspace after changing 10 files, against `rsync -a` of
//     the same change from the same local workspace, over the same ssh, to a copy of the env's
//     remote folder made on the host. Alternated (the order rotates each round), median of
//     --sync-runs rounds (default 10, at least --runs). ≤ 1.2×. In the same rounds, what bounds
//     it: `node -e 0` (Node's own start) and `ssh <host> true` over the shared connection, and
//     where cilo's time goes (its --json ms and walkMs: the CLI begins the listing and the ssh
//     session before sync's modules load, so they overlap Node's loading of cilo);
//     and the same push through MCP (`env_sync` of one long-lived `cilo mcp`, as an agent runs it:
//     no Node start per push), to an env of its own given the same edits.
//  2. `cilo up <env>` against `DOCKER_HOST=ssh://… docker-compose -p <project> -f <.cilo/compose.yml>
//     up -d` on the env's own rendered file, each followed by its down, alternated, median. ≤ 1.1×.
// Everything lives under a remote root of this run's own, removed at the end with the env.
// Run: node --import tsx bench/remote.ts [--runs 3] [--sync-runs 10] [--sync-only | --up-only] [--compare-dist <other build>/cilo.mjs]
//   --compare-dist: another build of cilo (an earlier commit's dist/cilo.mjs) syncs the same change
//   in the same rounds, to an env of its own (a second workspace given the same edits: the two
//   builds' manifests of the last push never meet), for a before/after of one run.
//   With --compare-dist it also ups the same env in the same alternation.
//   --up-only: part 2 alone (the workspace of 10,000 files is still made: up pushes it).
//   When NODE_EXTRA_CA_CERTS is set, part 2 also ups the env without it, in rounds of its own
//   against compose again (a row of its own, labelled; the main row runs as the machine is set).
// This machine sets NODE_EXTRA_CA_CERTS to its whole CA bundle, which Node parses at every start:
// a floor row times `node -e 0` without it too, to show what a user without it would not pay.
import { spawnSync } from "node:child_process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alternateUps, median, numberArg, printTable, sh, timeMs, type Row } from "./lib.ts";
import { stateEnvs } from "../test/helpers/state-files.ts";

const root = new URL("..", import.meta.url).pathname;
const RUNS = numberArg("--runs", 3);
const SYNC_RUNS = numberArg("--sync-runs", Math.max(RUNS, 10));
const SYNC_ONLY = process.argv.includes("--sync-only");
const UP_ONLY = process.argv.includes("--up-only");
if (SYNC_ONLY && UP_ONLY) throw new Error("--sync-only and --up-only exclude each other");
const at = process.argv.indexOf("--compare-dist");
const COMPARE = at > 0 ? process.argv[at + 1] : undefined;
const FILES = 10_000;
const CHANGED = 10;
const SSH = "ssh://root@10.213.77.2";
const REMOTE_ROOT = `/srv/cilo-remote-bench-${process.pid}`;

const started = spawnSync("bash", [join(root, "scripts/test-remote.sh"), "start"], { encoding: "utf8", stdio: ["ignore", "inherit", "inherit"] });
if (started.status !== 0) throw new Error(`scripts/test-remote.sh start failed (exit ${started.status})`);
const pathLine = sh("bash", [join(root, "scripts/test-remote.sh"), "env"]);
const wrapperDir = /PATH=["']?([^:"']+):/.exec(pathLine)?.[1];
if (!wrapperDir) throw new Error(`scripts/test-remote.sh env printed no PATH: ${pathLine}`);

const home = mkdtempSync(join(tmpdir(), "cilo-bench-remote-"));
const project = mkdtempSync(join(tmpdir(), "cilo-bench-remote-src-"));
// The local engine is never needed: DOCKER_HOST points nowhere, so nothing here can reach it by mistake.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: `${wrapperDir}:${process.env["PATH"]}`,
  CILO_HOME: home,
  CILO_GATEWAY: "off",
  DOCKER_HOST: "unix:///nonexistent/cilo-bench-remote.sock",
  DOCKER_CONTEXT: "",
  CILO_HELPER_IMAGE: "cilo-test/busybox:latest",
};
const cilo = (...a: string[]) => sh(process.execPath, [join(root, "dist/cilo.mjs"), ...a], { env, cwd: project });
const other = (...a: string[]) => sh(process.execPath, [COMPARE!, ...a], { env, cwd: project });
const ssh = (cmd: string) => sh("ssh", ["root@10.213.77.2", cmd], { env });

// A project of one busybox service serving a bind-mounted folder, and 10,000 small files (100
// folders of 100) beside it: the workspace a sync walks.
writeFileSync(
  join(project, "compose.yml"),
  'services:\n  web:\n    image: cilo-test/busybox:latest\n    command: ["httpd", "-f", "-p", "80", "-h", "/www"]\n    volumes:\n      - ./site:/www:ro\n',
);
mkdirSync(join(project, "site"));
writeFileSync(join(project, "site/index.html"), "<h1>bench</h1>\n");
for (let d = 0; d < FILES / 100; d++) {
  mkdirSync(join(project, `files/d${d}`), { recursive: true });
  for (let f = 0; f < 100; f++) writeFileSync(join(project, `files/d${d}/f${f}.txt`), `file ${d}/${f}\n`);
}

const rows: Row[] = [];
let mcp: Client | undefined;
/** How cilo names an env in every command (docs/cli.md): `<project>:<env>`, from its state key `<project>/<env>`. */
const refOf = (key: string) => key.replace("/", ":");
let envName = "";
/** Envs this run made, destroyed at the end. */
const made: string[] = [];
try {
  cilo("init", "--dns-port", String(20000 + Math.floor(Math.random() * 20000)));
  cilo("host", "add", "r1", SSH, "--remote-root", REMOTE_ROOT);
  const created = JSON.parse(cilo("create", "bench-remote", "--on", "r1", "--json"));
  envName = `${created.project}/bench-remote`;
  made.push(envName);
  const rec = stateEnvs(home)[envName];
  const local: string = rec.workspace;
  const remote: string = rec.remote_workspace;
  if (!remote?.startsWith(`${REMOTE_ROOT}/`)) throw new Error(`unexpected remote workspace ${remote}`);
  const otherEnv = COMPARE ? `${created.project}/${JSON.parse(cilo("create", "bench-remote-b", "--on", "r1", "--json")).name}` : "";
  if (otherEnv) made.push(otherEnv);
  const otherLocal: string = COMPARE ? stateEnvs(home)[otherEnv].workspace : "";
  // Without this machine's NODE_EXTRA_CA_CERTS: this build again, to an env of its own given the same edits.
  const CA = env["NODE_EXTRA_CA_CERTS"];
  const withoutCa = { ...env };
  delete withoutCa["NODE_EXTRA_CA_CERTS"];
  const noCaEnv = CA ? `${created.project}/${JSON.parse(cilo("create", "bench-remote-c", "--on", "r1", "--json")).name}` : "";
  if (noCaEnv) made.push(noCaEnv);
  const noCaLocal: string = CA ? stateEnvs(home)[noCaEnv].workspace : "";
  const ciloNoCa = (...a: string[]) => sh(process.execPath, [join(root, "dist/cilo.mjs"), ...a], { env: withoutCa, cwd: project });

  // The agent's path: env_sync of one `cilo mcp` session (started once, as an MCP client keeps it).
  const mcpEnv = UP_ONLY ? "" : `${created.project}/${JSON.parse(cilo("create", "bench-remote-m", "--on", "r1", "--json")).name}`;
  if (mcpEnv) made.push(mcpEnv);
  const mcpLocal: string = mcpEnv ? stateEnvs(home)[mcpEnv].workspace : "";
  if (mcpEnv) {
    mcp = new Client({ name: "cilo-bench-remote", version: "1" });
    await mcp.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [join(root, "dist/cilo.mjs"), "mcp", "--all-envs"],
        cwd: project,
        env: env as Record<string, string>,
        stderr: "inherit",
      }),
    );
  }
  const mcpSync = async () => {
    const r = (await mcp!.callTool({ name: "env_sync", arguments: { env: refOf(mcpEnv) } }, undefined, { timeout: 120_000 })) as {
      isError?: boolean;
      content?: { text?: string }[];
    };
    if (r.isError) throw new Error(`env_sync failed: ${r.content?.[0]?.text}`);
  };

  // 1. sync (left out by --up-only). The copy is made on the host from the env's remote folder; one untimed run of each
  if (!UP_ONLY) {
    // side first, so both start from the same state (and warm caches on both ends).
    const copy = `${REMOTE_ROOT}/rsync-copy`;
    ssh(`cp -a -- '${remote}' '${copy}'`);
    // What a user would type: rsync -a over the same ssh (the wrapper, the shared connection), leaving
    // out cilo's own folder as cilo does (it is not part of what the host needs).
    const rsync = () =>
      sh("rsync", ["-a", "--delete", "--exclude=/.cilo/", "--exclude=/.git/", "-e", "ssh -o BatchMode=yes", "--", `${local}/`, `10.213.77.2:${copy}/`], {
        env,
      });
    cilo("sync", refOf(envName));
    if (COMPARE) other("sync", refOf(otherEnv));
    if (CA) ciloNoCa("sync", refOf(noCaEnv));
    await mcpSync();
    rsync();
    const syncMs: number[] = [];
    /** The listing and comparison inside cilo sync, from the listing's start, as cilo itself timed it (`--json` walkMs). */
    const walkMs: number[] = [];
    /** Before the push's module began (wall − --json ms: Node's start, cilo's modules, the state read; the listing and ssh begin there). */
    const beforeMs: number[] = [];
    const vias = new Set<string>();
    const rsyncMs: number[] = [];
    const nodeMs: number[] = [];
    const sshMs: number[] = [];
    const otherMs: number[] = [];
    const nodeNoCaMs: number[] = [];
    const syncNoCaMs: number[] = [];
    const mcpMs: number[] = [];
    for (let i = 0; i < SYNC_RUNS; i++) {
      for (let k = 0; k < CHANGED; k++) {
        for (const w of [local, mcpLocal, ...(COMPARE ? [otherLocal] : []), ...(CA ? [noCaLocal] : [])])
          writeFileSync(join(w, `files/d${k * 9}/f${(i * 7 + k) % 100}.txt`), `changed in round ${i}, file ${k}\n`);
      }
      const sides: (() => void | Promise<void>)[] = [
        () => {
          let r = { ms: 0, walkMs: 0, via: "", sent: 0 };
          const wall = timeMs(() => {
            r = JSON.parse(cilo("sync", refOf(envName), "--json"));
          });
          syncMs.push(wall);
          walkMs.push(r.walkMs);
          beforeMs.push(wall - r.ms);
          vias.add(`${r.via}, ${r.sent} sent`);
        },
        () => rsyncMs.push(timeMs(rsync)),
        () => nodeMs.push(timeMs(() => sh(process.execPath, ["-e", "0"], { env }))),
        () => sshMs.push(timeMs(() => ssh("true"))),
        async () => {
          const t0 = performance.now();
          await mcpSync();
          mcpMs.push(performance.now() - t0);
        },
        ...(COMPARE ? [() => otherMs.push(timeMs(() => other("sync", refOf(otherEnv), "--json")))] : []),
        ...(CA
          ? [
              () => nodeNoCaMs.push(timeMs(() => sh(process.execPath, ["-e", "0"], { env: withoutCa }))),
              () => syncNoCaMs.push(timeMs(() => ciloNoCa("sync", refOf(noCaEnv), "--json"))),
            ]
          : []),
      ];
      for (let j = 0; j < sides.length; j++) await sides[(i + j) % sides.length]!();
    }
    // Both sides ended with the same content on the host (sizes and names of every file).
    const listing = (dir: string) => ssh(`cd '${dir}' && find . -path ./.cilo -prune -o -type f -printf '%P %s\\n' | sort | md5sum`);
    if (listing(remote) !== listing(copy)) throw new Error("cilo sync and rsync -a left different trees on the host");
    const cs = median(syncMs);
    const rs = median(rsyncMs);
    rows.push({
      what: `cilo sync, ${FILES} files, ${CHANGED} changed`,
      value: cs,
      unit: "ms",
      versus: "rsync -a of the same change, same ssh",
      base: rs,
      target: "≤ 1.2×",
      ok: cs <= 1.2 * rs,
    });
    const report = (what: string, value: number) =>
      rows.push({ what, value, unit: "ms", versus: "rsync -a of the same change, same ssh", base: rs, target: "report", ok: true });
    const walk = median(walkMs);
    const node = median(nodeMs);
    report("  of which before the push's module (wall − --json ms: Node, cilo's modules, state; the listing and ssh begin in it)", median(beforeMs));
    report(`  the listing and comparison, from the listing's start (--json walkMs, overlapping the above; ${[...vias].join(" / ")})`, walk);
    report("  floor: node -e 0 (Node's own start)", node);
    report("  floor: ssh <host> true, shared connection", median(sshMs));
    report("  floor: node -e 0 + ssh <host> true (medians added: a push's least)", node + median(sshMs));
    if (CA) {
      report("  floor: node -e 0 without NODE_EXTRA_CA_CERTS (this machine's whole CA bundle)", median(nodeNoCaMs));
      report("  cilo sync without NODE_EXTRA_CA_CERTS (its own env, the same edits)", median(syncNoCaMs));
    }
    report("  cilo sync through MCP (env_sync of one long-lived cilo mcp: no Node start per push; its own env, the same edits)", median(mcpMs));
    if (COMPARE) report(`  the same by ${COMPARE} (its own env, the same edits)`, median(otherMs));
  }

  // 2. up. The env is brought up once (renders .cilo/compose.yml, warms compose and the image on the host).
  // --sync-only leaves this out.
  if (!SYNC_ONLY) {
    cilo("up", envName, "--wait");
    cilo("down", envName);
    if (COMPARE) {
      other("up", envName);
      other("down", envName);
    }
    const {
      cilo: cu,
      compose: bu,
      baseline,
      rounds,
    } = alternateUps({
      cilo,
      env: envName,
      workspace: local,
      project: rec.docker_name,
      runs: RUNS,
      processEnv: { ...env, DOCKER_HOST: SSH },
      ...(COMPARE ? { baseline: other } : {}),
    });
    console.log(`bench/remote: up rounds (ms): ${JSON.stringify(rounds)}`);
    rows.push({
      what: "cilo up on the ssh:// host (1 service)",
      value: cu,
      unit: "ms",
      versus: "DOCKER_HOST=ssh:// docker-compose up -d, same file",
      base: bu,
      target: "≤ 1.1×",
      ok: cu <= 1.1 * bu,
    });
    if (baseline !== undefined)
      rows.push({
        what: `  the same by ${COMPARE}`,
        value: baseline,
        unit: "ms",
        versus: "DOCKER_HOST=ssh:// docker-compose up -d, same file",
        base: bu,
        target: "report",
        ok: true,
      });
    if (CA) {
      // This build without this machine's NODE_EXTRA_CA_CERTS (Node parses the whole CA bundle at
      // every start, ~30 ms here), in rounds of its own against compose again: what a user without it pays.
      const noCa = alternateUps({
        cilo: ciloNoCa,
        env: envName,
        workspace: local,
        project: rec.docker_name,
        runs: RUNS,
        processEnv: { ...env, DOCKER_HOST: SSH },
      });
      console.log(`bench/remote: up rounds without NODE_EXTRA_CA_CERTS (ms): ${JSON.stringify(noCa.rounds)}`);
      rows.push({
        what: "  cilo up without NODE_EXTRA_CA_CERTS (rounds of its own)",
        value: noCa.cilo,
        unit: "ms",
        versus: "DOCKER_HOST=ssh:// docker-compose up -d, same file, those rounds",
        base: noCa.compose,
        target: "report",
        ok: true,
      });
    }
  }
} finally {
  await mcp?.close();
  for (const e of made) {
    try {
      cilo("destroy", e, "--force");
    } catch (e) {
      console.error(`bench/remote: destroy failed: ${(e as Error).message}`);
    }
  }
  try {
    ssh(`rm -rf -- '${REMOTE_ROOT}'`);
  } catch (e) {
    console.error(`bench/remote: removing ${REMOTE_ROOT} on the host failed: ${(e as Error).message}`);
  }
  try {
    cilo("dns", "stop");
  } catch {
    /* not running */
  }
  rmSync(home, { recursive: true, force: true });
  rmSync(project, { recursive: true, force: true });
}
printTable(
  `remote (median of alternated runs: ${SYNC_ONLY ? "" : `up ${RUNS}, `}${UP_ONLY ? "" : `sync ${SYNC_RUNS}, `}${SSH} over one shared ssh connection, ${sh("rsync", ["--version"]).split("\n")[0]}, docker-compose ${sh("docker-compose", ["version", "--short"]).trim()})`,
  rows,
);
