// One env's DNS change (issue 16): planning only that env's hosts file and its wildcard lines
// gives what the full render of every env gives, and the suffixes come from the index alone.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { planEnvDns, swapEnvWildcards } from "../../src/core/dns/dnsmasq.ts";
import { dnsEnvFromState, dnsEnvsFromState, servedSuffixesFromIndex } from "../../src/core/dns/from-state.ts";
import { type DnsEnv, hostsFileName, planDns, renderServersFile, serversFileOf } from "../../src/core/dns/render.ts";
import { emptyState, type EnvRecord } from "../../src/core/state/schema.ts";

const shop: DnsEnv = {
  project: "shop",
  env: "x",
  suffix: "test",
  services: [{ name: "web", ip: "10.224.0.3", ingress: true, hostnames: ["admin"] }, { name: "api", ip: "10.224.0.2" }, { name: "db" }],
};
const blog: DnsEnv = {
  project: "blog",
  env: "y",
  suffix: "test",
  services: [
    { name: "api", ip: "10.224.1.2" },
    { name: "app", ip: "10.224.1.3", ingress: true },
  ],
};
const dev: DnsEnv = { project: "cms", env: "y", suffix: "dev", services: [{ name: "app", ip: "10.224.2.2", ingress: true }] };
// Same project, an env whose name starts with another's: their wildcard lines must not be mixed up.
const ab: DnsEnv = { project: "a", env: "b", suffix: "test", services: [{ name: "w", ip: "10.224.3.2", ingress: true }] };
const abc: DnsEnv = { project: "a", env: "bc", suffix: "test", services: [{ name: "w", ip: "10.224.4.2", ingress: true }] };

const keyOf = (e: DnsEnv) => `${e.project}/${e.env}`;

/** Applies `next` (undefined: the env is no longer served) to the envs one env at a time and checks each step against the full plan. */
function step(envs: DnsEnv[], key: string, next: DnsEnv | undefined): DnsEnv[] {
  const before = planDns(envs);
  const [project, env] = key.split("/") as [string, string];
  const after = [...envs.filter((e) => keyOf(e) !== key), ...(next ? [next] : [])];
  const full = planDns(after);
  const mine = planEnvDns({ project, env, ...(next ? { served: next } : {}), suffixes: [] }, before.wildcards);
  assert.is(mine.file, hostsFileName(project, env));
  assert.is(mine.content, full.hostsFiles[mine.file], `${key}: its hosts file`);
  assert.is(mine.wildcards, full.wildcards, `${key}: the wildcard set`);
  // Every other env's file is what it was: the env's apply writes none of them.
  for (const [f, text] of Object.entries(full.hostsFiles)) if (f !== mine.file) assert.is(before.hostsFiles[f], text, f);
  return after;
}

test("changing, adding and removing one env at a time gives the full render's files and wildcards", () => {
  let envs = [shop, blog, dev, ab, abc];
  envs = step(envs, "shop/x", { ...shop, services: shop.services.map((s) => (s.name === "api" ? { ...s, ip: "10.224.0.9" } : s)) }); // an exact name moves
  envs = step(envs, "shop/x", { ...shop, services: shop.services.map((s) => (s.name === "web" ? { ...s, ip: "10.224.0.7" } : s)) }); // the ingress moves
  envs = step(envs, "a/b", undefined); // a/b goes; a/bc's wildcard line stays
  assert.ok(planDns(envs).wildcards.includes("address=/a.bc.test/10.224.4.2\n"));
  envs = step(envs, "a/b", ab); // back
  envs = step(envs, "blog/y", { ...blog, services: blog.services.map((s) => ({ ...s, ingress: false })) }); // no ingress left
  envs = step(envs, "blog/y", { ...blog, services: [{ name: "db" }] }); // running without an address: no file
  envs = step(envs, "new/z", { project: "new", env: "z", suffix: "test", services: [{ name: "web", ip: "10.224.9.2", ingress: true }] });
  for (const e of [...envs]) envs = step(envs, keyOf(e), undefined); // every env goes
  assert.equal(planDns(envs), { hostsFiles: {}, wildcards: "", names: 0 });
});

test("swapEnvWildcards: only lines of that env are replaced; output sorted as planDns sorts", () => {
  const cur = "address=/a.b.test/10.0.0.1\naddress=/a.bc.test/10.0.0.2\naddress=/z.y.dev/10.0.0.3\n";
  assert.is(swapEnvWildcards(cur, "a", "b", ""), "address=/a.bc.test/10.0.0.2\naddress=/z.y.dev/10.0.0.3\n");
  assert.is(
    swapEnvWildcards(cur, "a", "b", "address=/a.b.test/10.0.0.9\n"),
    "address=/a.b.test/10.0.0.9\naddress=/a.bc.test/10.0.0.2\naddress=/z.y.dev/10.0.0.3\n",
  );
  assert.is(swapEnvWildcards("", "m", "n", "address=/m.n.test/10.0.0.4\n"), "address=/m.n.test/10.0.0.4\n");
  assert.is(swapEnvWildcards(cur, "q", "r", ""), cur, "an env with no line: unchanged");
  assert.is(swapEnvWildcards(cur, "a", "bc", "address=/a.bc.test/10.0.0.2\n"), cur, "its line unchanged: the same set");
  assert.is(swapEnvWildcards(cur, "z", "y", "address=/z.y.dev/10.0.0.3\n"), cur, "the last line, unchanged");
});

test("serversFileOf (compare only) renders what renderServersFile renders", () => {
  const wildcards = planDns([shop, blog, dev, ab, abc]).wildcards;
  assert.is(serversFileOf(wildcards, 15353), renderServersFile(wildcards, 15353));
  assert.is(serversFileOf("", 15353), renderServersFile("", 15353));
  assert.is(serversFileOf(wildcards, undefined), "");
});

test("the served suffixes come from the index and match the full render's; one env is rendered as the full render renders it", () => {
  const state = emptyState("testhome");
  state.config.dns_suffix = "test";
  const rec = (project: string, name: string, extra: Partial<EnvRecord>): EnvRecord => ({
    project,
    name,
    docker_name: `cilo_${project}_${name}`,
    status: "running",
    subnet: "10.224.0.0/24",
    workspace: `/w/${project}/${name}`,
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z",
    source: { kind: "copy", path: "/src" },
    services: [{ name: "web", ip: "10.224.0.3", ingress: true }],
    ...extra,
  });
  state.envs = {
    "shop/x": rec("shop", "x", { dns_suffix: "dev", hostnames: { web: ["www"] } }),
    "blog/y": rec("blog", "y", {}),
    "old/z": rec("old", "z", { status: "stopped", dns_suffix: "stopped.test" }),
    "far/w": rec("far", "w", { host: "r1", dns_suffix: "far.test" }),
  };
  assert.equal(servedSuffixesFromIndex(state).sort(), [...new Set(dnsEnvsFromState(state).map((e) => e.suffix))].sort());
  // A running env on a host is served too (its names answer this machine's gateway, docs/remote.md).
  assert.equal(servedSuffixesFromIndex(state).sort(), ["dev", "far.test", "test"]);
  for (const key of Object.keys(state.envs)) {
    assert.equal(
      dnsEnvFromState(state, key),
      dnsEnvsFromState(state).find((e) => keyOf(e) === key),
      key,
    );
  }
  assert.is(dnsEnvFromState(state, "gone/env"), undefined);
  state.config.routing = "gateway";
  assert.equal(dnsEnvFromState(state, "shop/x", "127.0.0.9")!.services[0]!.ip, "127.0.0.9");
});

test.run();
