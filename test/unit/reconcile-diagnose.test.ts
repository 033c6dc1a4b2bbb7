// Reconciliation as a pure function of facts (issue 6): typed fakes of Docker, disk, DNS and processes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ContainerState, NetworkState, VolumeState } from "../../src/core/runtime/provider.ts";
import { diagnose } from "../../src/core/reconcile/diagnose.ts";
import { wantsFix } from "../../src/core/reconcile/apply-fixes.ts";
import type { DnsFact, ReconcileFacts } from "../../src/core/reconcile/facts.ts";
import type { Finding } from "../../src/core/reconcile/finding.ts";
import { emptyState, STATE_VERSION, type EnvRecord, type State } from "../../src/core/state/schema.ts";

const HOME = "/h";
const T0 = "2030-01-01T00:00:00.000Z";

function env(name: string, over: Partial<EnvRecord> = {}): EnvRecord {
  return {
    project: "shop",
    name,
    docker_name: `cilo_shop_${name}`,
    status: "running",
    subnet: `10.224.${name.length}.0/24`,
    workspace: `${HOME}/envs/shop/${name}`,
    created_at: T0,
    updated_at: T0,
    services: [
      { name: "api", state: "running", ip: "10.224.1.2" },
      { name: "web", state: "running", ip: "10.224.1.3", ingress: true },
    ],
    ...over,
  };
}

function stateOf(...envs: EnvRecord[]): State {
  const s = emptyState("testhome");
  for (const e of envs) s.envs[`${e.project}/${e.name}`] = e;
  return s;
}

function container(project: string, envName: string, service: string, over: Partial<ContainerState> = {}, home = HOME): ContainerState {
  return {
    id: `id-${project}-${envName}-${service}`,
    name: `cilo_${project}_${envName}_${service}_1`,
    labels: {
      "cilo.managed": "true",
      "cilo.project": project,
      "cilo.env": envName,
      "cilo.service": service,
      "com.docker.compose.project.working_dir": `${home}/envs/${project}/${envName}/.cilo`,
    },
    state: "running",
    ips: { [`cilo_${project}_${envName}`]: service === "api" ? "10.224.1.2" : "10.224.1.3" },
    ...over,
  };
}

function network(project: string, envName: string): NetworkState {
  return {
    id: `net-${project}-${envName}`,
    name: `cilo_${project}_${envName}`,
    subnets: [],
    labels: { "cilo.managed": "true", "cilo.project": project, "cilo.env": envName },
  };
}

function volume(project: string, envName: string, vol: string): VolumeState {
  return { name: `cilo_${project}_${envName}_${vol}`, labels: { "cilo.managed": "true", "cilo.project": project, "cilo.env": envName } };
}

const calmDns: DnsFact = { running: true, answering: true, inSync: true, port: 5354, suffixes: ["test"], resolver: "set-up" };

function facts(state: State, over: Partial<ReconcileFacts> = {}, live: number[] = []): ReconcileFacts {
  return {
    home: HOME,
    envsRoots: [`${HOME}/envs`],
    checks: [],
    state: { kind: "ok", state, versionOnDisk: STATE_VERSION },
    docker: { kind: "ok", containers: [], networks: [], volumes: [] },
    dns: calmDns,
    workspaces: Object.keys(state.envs),
    staging: [],
    tmpFiles: [],
    locks: [],
    watchedOwners: [],
    sharedProjects: [],
    sharedGraceMs: 60_000,
    now: Date.parse("2026-11-24T12:00:00Z"),
    composeBusy: [],
    liveHomes: [],
    alive: (pid) => live.includes(pid),
    ...over,
  };
}

function docker(containers: ContainerState[], networks: NetworkState[] = [], volumes: VolumeState[] = []): ReconcileFacts["docker"] {
  return { kind: "ok", containers, networks, volumes };
}

const ids = (fs: Finding[]) => fs.map((f) => `${f.id} ${f.subject}`);

test("a running env whose containers, addresses, workspace and DNS match has no finding", () => {
  const s = stateOf(env("x"));
  const f = facts(s, { docker: docker([container("shop", "x", "api"), container("shop", "x", "web")], [network("shop", "x")]) });
  assert.equal(diagnose(f), []);
});

test("a service the shared instance provides has no container of the env and is not missing", () => {
  const base = env("x");
  const s = stateOf({ ...base, services: [...base.services, { name: "db", state: "running", ip: "10.230.0.2", shared: true }], shared_services: ["db"] });
  const found = diagnose(facts(s, { docker: docker([container("shop", "x", "api"), container("shop", "x", "web")], [network("shop", "x")]) }));
  assert.equal(ids(found), []);
  const noWeb = diagnose(facts(s, { docker: docker([container("shop", "x", "api")], [network("shop", "x")]) }));
  assert.equal(ids(noWeb), ["env-service-missing shop/x"]);
  assert.match(noWeb[0]!.message, /service "web" has no container/);
});

test("docker rm -f of one service: env-service-missing names it; an exited one is env-service-exited", () => {
  const s = stateOf(env("x"));
  const missing = diagnose(facts(s, { docker: docker([container("shop", "x", "web")]) }));
  assert.equal(ids(missing), ["env-service-missing shop/x"]);
  assert.match(missing[0]!.message, /service "api" has no container/);
  assert.is(missing[0]!.severity, "error");
  assert.match(missing[0]!.fix!, /cilo up shop\/x/);
  const exited = diagnose(facts(s, { docker: docker([container("shop", "x", "api", { state: "exited", exitCode: 137 }), container("shop", "x", "web")]) }));
  assert.equal(ids(exited), ["env-service-exited shop/x"]);
  assert.match(exited[0]!.message, /api \(exited\)/);
  const oneShot = diagnose(
    facts(s, { docker: docker([container("shop", "x", "api", { state: "exited", exitCode: 0, ips: {} }), container("shop", "x", "web")]) }),
  );
  assert.equal(ids(oneShot), ["env-ip-stale shop/x"], "a one-shot that exited 0 is fine, only its address went");
});

test("an address Docker reports differently is env-ip-stale; a stopped env whose services all run is env-status-stale", () => {
  const moved = container("shop", "x", "api", { ips: { cilo_shop_x: "10.224.1.9" } });
  assert.equal(ids(diagnose(facts(stateOf(env("x")), { docker: docker([moved, container("shop", "x", "web")]) }))), ["env-ip-stale shop/x"]);
  const stopped = stateOf(env("x", { status: "stopped" }));
  assert.equal(ids(diagnose(facts(stopped, { docker: docker([container("shop", "x", "api"), container("shop", "x", "web")]) }))), ["env-status-stale shop/x"]);
  assert.equal(diagnose(facts(stopped)), [], "a stopped env without containers is what it says");
});

test("orphans: ours are fixed; another CILO_HOME's and unprovable ones are named with the --foreign command, not fixed by default", () => {
  const s = stateOf(env("x"));
  const f = facts(s, {
    docker: docker(
      [container("shop", "x", "api"), container("shop", "x", "web"), container("shop", "gone", "api"), container("blog", "theirs", "api", {}, "/other-home")],
      [network("shop", "x"), network("shop", "gone"), network("blog", "theirs"), network("misc", "nobody")],
      [volume("shop", "gone", "data"), volume("blog", "theirs", "data"), volume("misc", "nobody", "data")],
    ),
  });
  const found = diagnose(f);
  assert.equal(ids(found), [
    "resource-foreign cilo_blog_theirs_api_1",
    "container-orphaned cilo_shop_gone_api_1",
    "resource-foreign cilo_blog_theirs",
    "resource-foreign cilo_misc_nobody",
    "network-orphaned cilo_shop_gone",
    "resource-foreign cilo_blog_theirs_data",
    "resource-foreign cilo_misc_nobody_data",
    "volume-orphaned cilo_shop_gone_data",
  ]);
  const orphan = found[1]!;
  assert.is(orphan.severity, "warning");
  assert.equal(orphan.target, { kind: "docker", resource: "container", id: "id-shop-gone-api", name: "cilo_shop_gone_api_1" });
  assert.is(orphan.fix, "remove the container");
  const foreign = found[0]!;
  assert.is(foreign.severity, "info");
  assert.equal(foreign.target, { kind: "docker", resource: "container", id: "id-blog-theirs-api", name: "cilo_blog_theirs_api_1" });
  assert.match(foreign.message, /cilo doctor --fix --foreign/);
  // A home that still exists keeps its resources to itself: not even named.
  const live = diagnose({ ...f, liveHomes: ["/other-home"] });
  assert.ok(!ids(live).includes("resource-foreign cilo_blog_theirs_api_1"));
});

test("home ids: resources labelled with this home are ours, with another live home are left alone, with a gone home are foreign", () => {
  const ours = { "cilo.home": "testhome", "cilo.home.path": HOME };
  const theirs = { "cilo.home": "otherhome", "cilo.home.path": "/other" };
  const x = env("x", { docker_name: "cilo_testhome_shop_x" });
  const mk = (envName: string, extra: Record<string, string>, over: Partial<ContainerState> = {}) => {
    const c = container("shop", envName, "api", over);
    return { ...c, id: `${c.id}-${extra["cilo.home"] ?? "none"}`, name: `${c.name}-${extra["cilo.home"] ?? "none"}`, labels: { ...c.labels, ...extra } };
  };
  const web = (() => {
    const c = container("shop", "x", "web", { ips: { cilo_testhome_shop_x: "10.224.1.3" } });
    return { ...c, labels: { ...c.labels, ...ours } };
  })();
  const containers = [mk("x", ours, { ips: { cilo_testhome_shop_x: "10.224.1.2" } }), web, mk("x", theirs), mk("x", {}, {}), mk("gone", ours)];
  const base = facts(stateOf(x), { docker: docker(containers) });
  // Another home's "shop/x" and an unlabelled one are not this env's containers (x is a new-style env).
  assert.equal(
    ids(diagnose({ ...base, liveHomes: ["/other"] })).filter((i) => !i.startsWith("resource-foreign")),
    ["container-orphaned cilo_shop_gone_api_1-testhome"],
  );
  const gone = diagnose(base);
  assert.ok(ids(gone).includes("resource-foreign cilo_shop_x_api_1-otherhome"), ids(gone).join("\n"));
  assert.match(gone.find((f) => f.subject === "cilo_shop_x_api_1-otherhome")!.message, /otherhome at \/other, which no longer exists/);
});

test("a volume of an env that exists nowhere but in this home's envs folder is ours", () => {
  const f = facts(stateOf(), { workspaces: ["shop/old"], docker: docker([], [], [volume("shop", "old", "db")]) });
  assert.equal(ids(diagnose(f)), ["volume-orphaned cilo_shop_old_db", "workspace-orphaned shop/old"]);
});

test("resources of a project's shared instance are not judged", () => {
  const shared = { "cilo.managed": "true", "cilo.project": "shop", "cilo.shared": "true" };
  const f = facts(stateOf(), {
    docker: docker(
      [{ id: "s1", name: "cilo_shop__shared_db_1", labels: { ...shared, "cilo.service": "db" }, state: "running", ips: {} }],
      [{ id: "n1", name: "cilo_shop__shared", subnets: [], labels: shared }],
      [{ name: "cilo_shop__shared_dbdata", labels: shared }],
    ),
  });
  assert.equal(diagnose(f), []);
});

test("a container without compose labels and without cilo project/env labels is foreign, removed only with --foreign", () => {
  const bare: ContainerState = { id: "c1", name: "stray", labels: { "cilo.managed": "true" }, state: "running", ips: {} };
  const found = diagnose(facts(stateOf(), { docker: docker([bare]) }));
  assert.equal(ids(found), ["resource-foreign stray"]);
  assert.ok(!wantsFix(found[0]!, {}));
  assert.ok(wantsFix(found[0]!, { foreign: true }));
});

test("workspaces: a folder without an env is workspace-orphaned; an env without its folder is env-workspace-missing", () => {
  const s = stateOf(env("x", { status: "stopped" }));
  const found = diagnose(facts(s, { workspaces: ["shop/lost"] }));
  assert.equal(ids(found), ["env-workspace-missing shop/x", "workspace-orphaned shop/lost"]);
  assert.match(found[0]!.fix!, /destroy/);
  const stillRuns = diagnose(facts(stateOf(env("x")), { workspaces: [], docker: docker([container("shop", "x", "api")]) }));
  assert.equal(ids(stillRuns), ["env-workspace-missing shop/x"]);
  assert.is(stillRuns[0]!.fix, null, "never destroyed automatically while something of it runs");
});

test("a recorded workspace that is not the env's folder under the home is env-workspace-outside, never fixed", () => {
  const s = stateOf(env("x", { status: "stopped", workspace: "/tmp/elsewhere" }), env("y", { status: "stopped", workspace: `${HOME}/envs/shop/../shop/y` }));
  const found = diagnose(facts(s, { workspaces: ["shop/x", "shop/y"] }));
  assert.equal(ids(found), ["env-workspace-outside shop/x"]);
  assert.is(found[0]!.fix, null);
  assert.match(found[0]!.message, /\/tmp\/elsewhere/);
});

test("interrupted operations: a marker whose process is gone, with the fix of its kind; a live one is left alone", () => {
  const marker = (kind: "create" | "up" | "down" | "destroy", pid: number) => ({ kind, pid, started_at: T0 });
  const s = stateOf(
    env("a", { status: "creating", operation: marker("create", 101) }),
    env("b", { status: "starting", operation: marker("up", 102) }),
    env("c", { status: "destroying", operation: marker("destroy", 103) }),
    env("d", { status: "running", operation: marker("down", 104) }),
    env("e", { status: "starting", operation: marker("up", 200) }),
    env("f", { status: "destroying" }),
  );
  const found = diagnose(facts(s, {}, [200]));
  assert.equal(ids(found), [
    "operation-interrupted shop/a",
    "operation-interrupted shop/b",
    "operation-interrupted shop/c",
    "operation-interrupted shop/d",
    "operation-interrupted shop/f",
  ]);
  assert.match(found[0]!.fix!, /roll the create back/);
  assert.match(found[1]!.fix!, /running if every service runs, else as failed/);
  assert.match(found[2]!.fix!, /finish the destroy/);
  assert.match(found[3]!.fix!, /cilo down/);
  assert.match(found[4]!.message, /destroy of shop\/f was interrupted/);
});

test("a pid reused by a newer process does not keep an operation alive", () => {
  const s = stateOf(env("a", { status: "starting", operation: { kind: "up", pid: 300, started_at: T0 } }));
  const reused = Date.parse(T0) - 1; // the process now holding pid 300 started after the marker
  const f = facts(s, { alive: (pid, startedBefore) => pid === 300 && startedBefore !== undefined && startedBefore > reused + 10_000 });
  assert.equal(ids(diagnose(f)), ["operation-interrupted shop/a"]);
});

test("throwaway envs: owner gone → env-owner-gone; owner alive without a reaper → reaper-missing", () => {
  const s = stateOf(env("t", { owner_pid: 400 }));
  const running = docker([container("shop", "t", "api"), container("shop", "t", "web")]);
  assert.equal(ids(diagnose(facts(s, { docker: running }))), ["env-owner-gone shop/t"]);
  assert.equal(ids(diagnose(facts(s, { docker: running }, [400]))), ["reaper-missing shop/t"]);
  assert.equal(diagnose(facts(s, { docker: running, watchedOwners: [400] }, [400])), []);
});

test("state: missing and too new are prerequisites; corrupt offers the backup when it is valid; old schema is rewritten", () => {
  const base = facts(stateOf());
  const missing = diagnose({ ...base, state: { kind: "missing", message: "cilo is not initialised" } });
  assert.equal(ids(missing), ["state-missing state.json"]);
  const corrupt = diagnose({ ...base, state: { kind: "corrupt", message: "not valid JSON", backup: "/h/state.json.bak" } });
  assert.equal(ids(corrupt), ["state-corrupt state.json"]);
  assert.match(corrupt[0]!.fix!, /restore .*state\.json\.bak/);
  assert.is(diagnose({ ...base, state: { kind: "corrupt", message: "x" } })[0]!.fix, null);
  const old = diagnose({ ...base, state: { kind: "ok", state: stateOf(), versionOnDisk: 0 } });
  assert.equal(ids(old), ["state-schema-old state.json"]);
});

test("locks, temp files and staging folders: only stale ones are findings", () => {
  const f = facts(stateOf(), {
    locks: [
      { path: "/h/state.json.lock", ageMs: 60_000 },
      { path: "/h/dns/dnsmasq.conf.lock", ageMs: 500 },
    ],
    tmpFiles: [
      { path: "/h/.state.json.111.1.0.tmp", ageMs: 10, pid: 111 },
      { path: "/h/.state.json.222.1.0.tmp", ageMs: 10, pid: 222 },
    ],
    staging: [
      { path: "/h/envs/.staging/a-1", ageMs: 2 * 3_600_000 },
      { path: "/h/envs/.staging/b-2", ageMs: 1_000 },
    ],
  });
  assert.equal(ids(diagnose({ ...f, alive: (pid) => pid === 222 })), [
    "lock-stale /h/state.json.lock",
    "tmp-file-stray /h/.state.json.111.1.0.tmp",
    "staging-leftover /h/envs/.staging/a-1",
  ]);
});

test("snapshot folders being made: a leftover only when their maker is gone", () => {
  const f = facts(stateOf(), {
    snapshotTemps: [
      { path: "/h/snapshots/.tmp-s1-111-0a0b0c0d", ageMs: 10, pid: 111 },
      { path: "/h/snapshots/.tmp-rm-s2-222-0a0b0c0d", ageMs: 10, pid: 222 },
    ],
  });
  assert.equal(ids(diagnose({ ...f, alive: (pid) => pid === 222 })), ["snapshot-leftover /h/snapshots/.tmp-s1-111-0a0b0c0d"]);
});

test("DNS: not answering, not running while envs run, out of sync; the resolver is only told about", () => {
  const running = stateOf(env("x"));
  const d = docker([container("shop", "x", "api"), container("shop", "x", "web")]);
  const with_ = (dns: Partial<DnsFact>) => ids(diagnose(facts(running, { docker: d, dns: { ...calmDns, ...dns } })));
  assert.equal(with_({ answering: false }), ["dns-not-answering dnsmasq"]);
  assert.equal(with_({ running: false, answering: false }), ["dns-not-running dnsmasq"]);
  assert.equal(with_({ inSync: false }), ["dns-out-of-sync dnsmasq"]);
  const resolver = diagnose(facts(running, { docker: d, dns: { ...calmDns, resolver: "not-set-up" } }));
  assert.equal(ids(resolver), ["resolver-not-set-up resolver"]);
  assert.is(resolver[0]!.severity, "info");
  assert.equal(ids(diagnose(facts(stateOf(env("x", { status: "stopped" })), { dns: { ...calmDns, running: false, answering: false, inSync: false } }))), []);
});

test("Docker unreachable: a prerequisite finding, and no guess about containers", () => {
  const s = stateOf(env("x"));
  const found = diagnose(facts(s, { docker: { kind: "unreachable", message: "The Docker engine does not answer" }, workspaces: ["shop/x", "shop/y"] }));
  assert.equal(ids(found), ["docker-unreachable docker", "workspace-orphaned shop/y"]);
});

test("deterministic: the same facts in another order give the same findings", () => {
  const a = env("a", { status: "starting", operation: { kind: "up", pid: 9, started_at: T0 } });
  const b = env("b");
  const c1 = [container("shop", "zz", "api"), container("shop", "b", "web"), container("shop", "yy", "api")];
  const one = diagnose(facts(stateOf(a, b), { docker: docker(c1) }));
  const two = diagnose(facts(stateOf(b, a), { docker: docker([...c1].reverse()) }));
  assert.equal(one, two);
  assert.equal(ids(one), [
    "operation-interrupted shop/a",
    "env-service-missing shop/b",
    "container-orphaned cilo_shop_yy_api_1",
    "container-orphaned cilo_shop_zz_api_1",
  ]);
});

test("shared instances: missing users, idle past the grace period, missing while used, orphaned resources", () => {
  const state = emptyState("testhome");
  state.envs["shop/a"] = env("a");
  state.shared = {
    shop: {
      project: "shop",
      network: "cilo_shop__shared",
      subnet: "10.224.9.0/24",
      services: {
        cache: { users: [], idle_since: "2026-11-24T11:00:00Z" },
        db: { users: ["a", "gone"] },
        queue: { users: [], idle_since: "2026-11-24T11:59:30Z" },
      },
    },
  };
  const orphan: ContainerState = {
    id: "c-old",
    name: "cilo_blog__shared_db_1",
    labels: { "cilo.managed": "true", "cilo.project": "blog", "cilo.shared": "true", "cilo.service": "db" },
    state: "running",
    ips: {},
  };
  const other: ContainerState = { ...orphan, id: "c-other", name: "cilo_wiki__shared_db_1", labels: { ...orphan.labels, "cilo.project": "wiki" } };
  const found = diagnose(facts(state, { sharedProjects: ["blog", "shop"], docker: docker([container("shop", "a", "api"), orphan, other]) }));
  const ids = (id: string) => found.filter((f) => f.id === id);
  assert.equal(
    ids("shared-user-missing").map((f) => f.target),
    [{ kind: "shared-user", project: "shop", service: "db", user: "gone" }],
  );
  assert.equal(
    ids("shared-idle-expired").map((f) => f.subject),
    ["shop/cache (shared)"],
    "queue is still within its grace period",
  );
  assert.equal(
    ids("shared-service-missing").map((f) => f.subject),
    ["shop/db (shared)"],
  );
  assert.equal(
    ids("shared-orphaned").map((f) => f.target),
    [{ kind: "docker", resource: "container", id: "c-old", name: "cilo_blog__shared_db_1" }],
    "wiki has no shared folder in this home: not ours",
  );
});

test.run();
