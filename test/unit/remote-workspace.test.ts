// Envs on hosts (issue 17 items 2–3, docs/remote.md): the pure parts. The compose model's host
// paths moved to the remote workspace, the rsync filter of a .ciloignore, remote root and remote
// workspace validation, ssh arguments, subnets per host (allocation and state validation), and
// create --on refusals over a test context. The real thing is test/integration/host-envs.test.ts.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CiloError } from "../../src/core/errors.ts";
import { remoteRootProblem, remoteWorkspaceProblem } from "../../src/core/host-address.ts";
import { movePath, remoteRunLine, rewriteHostPaths, rsyncFilterRules, rsyncRemote, sshTarget } from "../../src/core/host/remote-paths.ts";
import { remoteCiloEnvironment } from "../../src/core/env/run-in-env.ts";
import { applyScript, EMPTY_MANIFEST, type Manifest, parseManifest, shQuote, syncPlan } from "../../src/core/host/tar-sync-plan.ts";
import { firstFileOfTar, padding, TAR_END, tarHeaders } from "../../src/core/fs/tar.ts";
import { localManifest } from "../../src/core/host/workspace-manifest.ts";
import { createEnv } from "../../src/core/env/create-env.ts";
import { envDockerName } from "../../src/core/labels.ts";
import { stateSubnets } from "../../src/core/network/used-subnets.ts";
import { emptyState, type EnvRecord } from "../../src/core/state/schema.ts";
import { initState } from "../../src/core/state/store.ts";
import { validateState } from "../../src/core/state/validate.ts";
import { removeDir, repoRoot, tempDir } from "../helpers/cli.ts";
import { testContext } from "../helpers/context.ts";

const L = "/home/u/.cilo/envs/shop/feat";
const R = "/srv/cilo/shop/feat";

test("movePath: the workspace itself and paths under it move; a sibling with the same prefix does not", () => {
  assert.is(movePath(L, L, R), R);
  assert.is(movePath(`${L}/web/index.html`, L, R), `${R}/web/index.html`);
  assert.is(movePath(`${L}-other/x`, L, R), undefined);
  assert.is(movePath("/var/run/docker.sock", L, R), undefined);
});

test("rewriteHostPaths: bind mounts (short and long) and configs/secrets files move; volumes, build contexts and env_files stay", () => {
  const model = {
    services: {
      web: {
        image: "x",
        build: { context: `${L}/web` },
        env_file: [`${L}/.env`],
        volumes: [
          `${L}/web:/www:ro`,
          `${L}:/app`,
          "data:/data",
          "/var/run/docker.sock:/s",
          { type: "bind", source: `${L}/api`, target: "/srv", read_only: true },
        ],
      },
      db: { image: "y", volumes: [{ type: "volume", source: "pg", target: "/var/lib/pg" }] },
      bare: { image: "z" },
    },
    configs: { c: { file: `${L}/conf/app.toml` }, e: { external: true } },
    secrets: { s: { file: "/etc/elsewhere" } },
  };
  const before = structuredClone(model);
  const out = rewriteHostPaths(model, L, R) as any;
  assert.equal(model, before, "the input is not changed");
  assert.equal(out.services.web.volumes, [
    `${R}/web:/www:ro`,
    `${R}:/app`,
    "data:/data",
    "/var/run/docker.sock:/s",
    { type: "bind", source: `${R}/api`, target: "/srv", read_only: true },
  ]);
  assert.equal(out.services.web.build, { context: `${L}/web` }, "compose sends the build context from here");
  assert.equal(out.services.web.env_file, [`${L}/.env`], "compose reads env_files here");
  assert.equal(out.services.db.volumes, before.services.db.volumes);
  assert.equal(out.configs.c.file, `${R}/conf/app.toml`);
  assert.equal(out.secrets.s.file, "/etc/elsewhere");
});

test("rsyncFilterRules: gitignore lines reversed (last match wins there, first in rsync), ! brings back, comments skipped, .cilo and .git never pushed", () => {
  assert.equal(rsyncFilterRules(""), ["- /.cilo/", "- /.git"]);
  assert.equal(rsyncFilterRules("# deps\nnode_modules/\n\n*.log\n!keep.log\n\\#literal\n"), [
    "- /.cilo/",
    "- /.git",
    "- #literal",
    "+ keep.log",
    "- *.log",
    "- node_modules/",
  ]);
});

test("remote roots: absolute, safe characters, no . or .. segments, not right under /", () => {
  for (const ok of ["/srv/cilo-remote", "/home/me/.cilo-remote", "/data", "/var/lib/cilo_remote/x"]) assert.is(remoteRootProblem(ok), undefined, ok);
  const bad: [string, RegExp][] = [
    ["relative/path", /absolute path/],
    ["~/.cilo-remote", /absolute path/],
    ["/srv/../etc", /\.\. segment/],
    ["/srv/./x", /\. or \.\. segment/],
    ["/srv//x", /empty/],
    ["/srv/x/", /empty/],
    ["/srv/a b", /letters, digits/],
    ["/srv/$(rm -rf ~)", /letters, digits/],
    ["/srv/it's", /letters, digits/],
    ["/", /too close to \//],
    ["/etc", /too close to \//],
  ];
  for (const [p, why] of bad) assert.match(remoteRootProblem(p) ?? "", why, p);
  assert.is(remoteWorkspaceProblem("/srv/cilo/shop/feat", "shop", "feat"), undefined);
  assert.ok(remoteWorkspaceProblem("/srv/cilo/shop/other", "shop", "feat"));
  assert.ok(remoteWorkspaceProblem("/shop/feat", "shop", "feat"), "the root must be valid too");
  assert.ok(remoteWorkspaceProblem("/srv/../shop/feat", "shop", "feat"));
  assert.ok(remoteWorkspaceProblem(7, "shop", "feat"));
});

test("sshTarget / rsyncRemote: port and user as options, BatchMode, IPv6 in brackets", () => {
  assert.equal(sshTarget("ssh://me@box.example:2222"), {
    options: ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-p", "2222", "-l", "me"],
    host: "box.example",
    user: "me",
  });
  assert.equal(sshTarget("ssh://box").options, ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]);
  assert.is(sshTarget("ssh://[fd00::2]").host, "fd00::2");
  assert.is(rsyncRemote("fd00::2", "/srv/x/"), "[fd00::2]:/srv/x/");
  assert.is(rsyncRemote("box", "/srv/x/"), "box:/srv/x/");
});

const env = (name: string, subnet: string, host?: string): EnvRecord => ({
  project: "p",
  name,
  docker_name: envDockerName("testhome", "p", name),
  status: "created",
  subnet,
  workspace: `/w/${name}`,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  services: [],
  ...(host ? { host, remote_workspace: `/srv/cilo/p/${name}` } : {}),
});

test("subnets are per host: two hosts may use one subnet, one host may not use it twice; allocation counts only that host's", () => {
  const s = emptyState("testhome");
  s.hosts = { r1: { address: "ssh://root@10.0.0.2", added_at: "t" }, r2: { address: "ssh://root@10.0.0.3", added_at: "t" } };
  s.envs["p/a"] = env("a", "10.224.0.0/24");
  s.envs["p/b"] = env("b", "10.224.0.0/24", "r1");
  s.envs["p/c"] = env("c", "10.224.0.0/24", "r2");
  assert.equal(validateState(s), []);
  s.envs["p/d"] = env("d", "10.224.0.0/24", "r1");
  assert.match(validateState(s).join("\n"), /envs "p\/b" and "p\/d" share subnet 10\.224\.0\.0\/24/);
  delete s.envs["p/d"];
  s.envs["p/e"] = env("e", "10.224.1.0/24", "r1");
  assert.equal(stateSubnets(s, { host: "r1" }).sort(), ["10.224.0.0/24", "10.224.1.0/24"]);
  assert.equal(stateSubnets(s, { host: "r2" }), ["10.224.0.0/24"]);
  assert.equal(stateSubnets(s, { host: null }), ["10.224.0.0/24"]);
  assert.equal(stateSubnets(s).length, 4, "without a host: every env's");
  s.envs["p/e"] = { ...env("e", "10.224.1.0/24", "r1"), remote_workspace: "/srv/cilo/p/other" };
  assert.match(validateState(s).join("\n"), /env "p\/e" has a remote_workspace that is not <remote root>\/p\/e/);
  s.envs["p/e"] = { ...env("e", "10.224.1.0/24"), remote_workspace: "/srv/cilo/p/e" };
  assert.match(validateState(s).join("\n"), /remote_workspace/, "a remote workspace without a host");
});

test("create --on: an unknown host or a malformed name is exit 2; nothing is recorded", async () => {
  const home = tempDir("cilo-unit-remote-");
  try {
    const ctx = testContext({ home });
    await initState(ctx, {});
    const before = readFileSync(join(home, "state.json"), "utf8");
    const from = join(repoRoot, "examples/basic");
    for (const [on, code] of [
      ["nope", "E_HOST_NOT_FOUND"],
      ["Bad Name", "E_USAGE"],
    ] as const) {
      try {
        await createEnv(ctx, { env: "x1", from, on });
        assert.unreachable(`create --on ${on} succeeded`);
      } catch (e) {
        assert.instance(e, CiloError);
        assert.is((e as CiloError).code, code, (e as Error).message);
        assert.is((e as CiloError).exitCode, 2);
      }
      assert.is(readFileSync(join(home, "state.json"), "utf8"), before, "state.json untouched");
    }
    // host: in the project config is the default of --on, checked where it is read.
    const project = join(home, "proj");
    cpSync(from, project, { recursive: true });
    mkdirSync(join(project, ".cilo"), { recursive: true });
    for (const [host, code] of [
      ["nope", "E_HOST_NOT_FOUND"],
      ["Bad", "E_CONFIG_INVALID"],
    ] as const) {
      writeFileSync(join(project, ".cilo/config.yml"), `project: basic\nhost: ${host}\n`);
      try {
        await createEnv(ctx, { env: "x2", from: project });
        assert.unreachable(`create with host: ${host} succeeded`);
      } catch (e) {
        assert.instance(e, CiloError);
        assert.is((e as CiloError).code, code, (e as Error).message);
        assert.is((e as CiloError).exitCode, 2);
      }
      assert.is(readFileSync(join(home, "state.json"), "utf8"), before, "state.json untouched");
    }
  } finally {
    removeDir(home);
  }
});

const f = (s: number, m = 1000, p = 0o644) => ({ t: "f" as const, s, m, p });

test("tar sync plan: sends new and changed files only, removes what is gone (deepest folders first), makes every folder", () => {
  const remote: Manifest = {
    v: 1,
    entries: { a: f(1), b: f(2), "d/old": f(3), d: { t: "d" }, "e/x/y": f(1), e: { t: "d" }, "e/x": { t: "d" }, l: { t: "l", l: "a" }, m: f(1) },
  };
  const local: Manifest = { v: 1, entries: { a: f(1), b: f(2, 2000), c: f(4), d: { t: "d" }, l: { t: "l", l: "b" }, m: f(1, 1000, 0o755), n: { t: "d" } } };
  assert.equal(syncPlan(local, remote), { send: ["b", "c", "l", "m"], remove: ["d/old", "e/x/y"], mkdirs: ["d", "n"], rmdirs: ["e/x", "e"] });
  // A file that became a folder is removed first; a folder that became a file is rmdir'ed.
  assert.equal(syncPlan({ v: 1, entries: { x: { t: "d" }, y: f(1) } }, { v: 1, entries: { x: f(1), y: { t: "d" } } }), {
    send: ["y"],
    remove: ["x"],
    mkdirs: ["x"],
    rmdirs: ["y"],
  });
  assert.equal(syncPlan(local, local).send, []);
});

test("tar sync manifest from the host is untrusted: a path outside the workspace or under .cilo/ makes it empty", () => {
  assert.equal(parseManifest(undefined), EMPTY_MANIFEST);
  assert.equal(parseManifest("{not json"), EMPTY_MANIFEST);
  assert.equal(parseManifest(JSON.stringify({ v: 2, entries: {} })), EMPTY_MANIFEST);
  for (const bad of ["../x", "/etc/passwd", "a/../../b", "a//b", ".cilo/x", ".git/config", "a/./b", "x\0y"]) {
    assert.equal(parseManifest(JSON.stringify({ v: 1, entries: { [bad]: f(1) } })), EMPTY_MANIFEST, bad);
  }
  assert.equal(parseManifest(JSON.stringify({ v: 1, entries: { a: { t: "f", s: "1", m: 1, p: 1 } } })), EMPTY_MANIFEST);
  const good = { v: 1 as const, entries: { "a b/c'd": f(5), l: { t: "l" as const, l: "../x" }, d: { t: "d" as const } } };
  assert.equal(parseManifest(JSON.stringify(good)), good);
});

test("tar sync apply script: quoted paths, removals before folders, one mv per folder, the manifest last", () => {
  const script = applyScript("/cilo-root/p/e", "stage-1", { send: ["a", "d/it's", "d/z"], remove: ["gone"], mkdirs: ["d"], rmdirs: ["old"] });
  assert.equal(script.trim().split("\n"), [
    "set -e",
    "cd '/cilo-root/p/e'",
    "rm -f -- 'gone'",
    "rmdir -- 'old' 2>/dev/null || true",
    "mkdir -p -- 'd'",
    "mv -f -- '.cilo/stage-1/f/a' './'",
    `mv -f -- '.cilo/stage-1/f/d/it'\\''s' '.cilo/stage-1/f/d/z' 'd/'`,
    "mv -f -- '.cilo/stage-1/manifest.json' '.cilo/sync-manifest.json'",
    "rm -rf -- '.cilo/stage-1'",
    "find .cilo -maxdepth 1 -name 'stage-*' -mmin +60 -exec rm -rf -- {} + 2>/dev/null || true",
  ]);
  assert.is(shQuote("a'b"), `'a'\\''b'`);
});

test("tar headers: ustar, a PAX header for a long path, read back by tar(1) with mode, mtime and content", () => {
  const dir = tempDir("cilo-unit-tar-");
  try {
    const long = `${"x".repeat(120)}/file.txt`;
    const body = Buffer.from("hello\n");
    const tar = Buffer.concat([
      tarHeaders({ path: "x".repeat(120), type: "dir", mode: 0o755, mtimeMs: 0 }),
      tarHeaders({ path: long, type: "file", mode: 0o640, mtimeMs: 1_700_000_000_000, size: body.length }),
      body,
      padding(body.length),
      tarHeaders({ path: "link", type: "symlink", mode: 0o777, mtimeMs: 0, linkname: long }),
      TAR_END,
    ]);
    writeFileSync(join(dir, "t.tar"), tar);
    const r = spawnSync("tar", ["-xf", "t.tar"], { cwd: dir, encoding: "utf8" });
    assert.is(r.status, 0, r.stderr);
    assert.is(readFileSync(join(dir, long), "utf8"), "hello\n");
    const st = statSync(join(dir, long));
    assert.is(st.mode & 0o777, 0o640);
    assert.is(Math.floor(st.mtimeMs / 1000), 1_700_000_000);
    assert.is(readFileSync(join(dir, "link"), "utf8"), "hello\n");
    assert.is(firstFileOfTar(tar)?.toString(), "hello\n", "the first file, past the PAX header");
    assert.is(firstFileOfTar(TAR_END), undefined);
  } finally {
    removeDir(dir);
  }
});

test("local manifest: .ciloignore as gitignore (last match wins, ! brings back), .cilo/ and .git left out", async () => {
  const dir = tempDir("cilo-unit-manifest-");
  try {
    mkdirSync(join(dir, "web/sub"), { recursive: true });
    mkdirSync(join(dir, ".cilo"), { recursive: true });
    mkdirSync(join(dir, ".git"), { recursive: true });
    mkdirSync(join(dir, "node_modules/x"), { recursive: true });
    for (const p of ["web/index.html", "web/debug.log", "web/keep.log", "web/sub/a", ".cilo/compose.yml", ".git/HEAD", "node_modules/x/i.js"])
      writeFileSync(join(dir, p), p);
    symlinkSync("index.html", join(dir, "web/link"));
    const m = localManifest(dir, "*.log\n!keep.log\nnode_modules/\n");
    assert.equal(Object.keys(m.entries).sort(), ["web", "web/index.html", "web/keep.log", "web/link", "web/sub", "web/sub/a"]);
    assert.equal(m.entries["web/link"], { t: "l", l: "index.html" });
    assert.is((m.entries["web/index.html"] as { s: number }).s, "web/index.html".length);
  } finally {
    removeDir(dir);
  }
});

test("run --remote: the ssh command line quotes every value and the command; CILO_* of the host's side", () => {
  const line = remoteRunLine("/srv/r/p/e", { CILO_ENV: "e", CILO_X: "it's $HOME" }, 'echo "$CILO_ENV"; exit 3');
  assert.is(line, `cd -- '/srv/r/p/e' && exec env CILO_ENV='e' CILO_X='it'\\''s $HOME' sh -c 'echo "$CILO_ENV"; exit 3'`);
  const r = spawnSync("sh", ["-c", line.replace("cd -- '/srv/r/p/e'", "cd -- /")], { encoding: "utf8" });
  assert.is(r.status, 3);
  assert.is(r.stdout, "e\n");
  assert.throws(() => remoteRunLine("/x", { "A;rm": "1" }, "true"), /not a variable name/);
  const rec = {
    ...env("e", "10.224.1.0/24", "r1"),
    project: "p",
    status: "running" as const,
    services: [{ name: "db", ip: "10.224.1.5" }],
    forwards: [{ service: "db", port: 5432, address: "127.0.0.1", host_port: 40001 }],
  } as unknown as EnvRecord;
  assert.equal(remoteCiloEnvironment(rec, "r1", "/srv/r/p/e"), {
    CILO_ENV: "e",
    CILO_PROJECT: "p",
    CILO_HOST: "r1",
    CILO_WORKSPACE: "/srv/r/p/e",
    CILO_ADDR_DB_5432: "10.224.1.5:5432",
  });
});

test.run();
