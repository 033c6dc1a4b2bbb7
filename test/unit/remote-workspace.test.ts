// Envs on hosts (issue 17 items 2–3, docs/remote.md): the pure parts. The compose model's host
// paths moved to the remote workspace, the rsync filter of a .ciloignore, remote root and remote
// workspace validation, ssh arguments, subnets per host (allocation and state validation), and
// create --on refusals over a test context. The real thing is test/integration/host-envs.test.ts.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CiloError } from "../../src/core/errors.ts";
import { remoteRootProblem, remoteWorkspaceProblem } from "../../src/core/host-address.ts";
import { movePath, rewriteHostPaths, rsyncFilterRules, rsyncRemote, sshTarget } from "../../src/core/host/remote-paths.ts";
import { addHost } from "../../src/core/host/hosts.ts";
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

test("create --on: an unknown host is exit 2 and a tcp:// host exit 2 (E_HOST_NO_SSH); nothing is recorded", async () => {
  const home = tempDir("cilo-unit-remote-");
  try {
    const ctx = testContext({ home });
    await initState(ctx, {});
    await addHost(ctx, { name: "t1", target: "tcp://10.0.0.9:2375", check: false });
    const before = readFileSync(join(home, "state.json"), "utf8");
    const from = join(repoRoot, "examples/basic");
    for (const [on, code] of [
      ["nope", "E_HOST_NOT_FOUND"],
      ["t1", "E_HOST_NO_SSH"],
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
      ["t1", "E_HOST_NO_SSH"],
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

test.run();
