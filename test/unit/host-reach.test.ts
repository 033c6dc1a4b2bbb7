// How this machine reaches envs on a host (issue 17 item 4, docs/remote.md "Names of remote envs"):
// the reach of an address, the routes of this machine's gateway and of a tcp:// host's own gateway,
// and the .test names DNS answers for remote envs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { CiloContext } from "../../src/core/context/context.ts";
import { reachedHost } from "../../src/core/forward/remote-names.ts";
import { hostReach, hostReaches, hostReachesFor, hostReachIn, reachOf } from "../../src/core/gateway/host-reach.ts";
import { gatewayAliases, gatewayNeeded, gatewayNetworks, gatewayRoutes } from "../../src/core/gateway/render.ts";
import { dnsEnvsFromState } from "../../src/core/dns/from-state.ts";
import { emptyState, type EnvRecord, type State } from "../../src/core/state/schema.ts";

const T0 = "2030-01-01T00:00:00.000Z";

function env(name: string, over: Partial<EnvRecord> = {}): EnvRecord {
  return {
    project: "shop",
    name,
    docker_name: `cilo_testhome_shop_${name}`,
    status: "running",
    subnet: "10.224.1.0/24",
    workspace: `/h/envs/shop/${name}`,
    created_at: T0,
    updated_at: T0,
    services: [
      { name: "db", state: "running", ip: "10.224.1.4", port: 5432, tcp: [5432] },
      { name: "web", state: "running", ip: "10.224.1.3", ports: [80, 8080] },
    ],
    ...over,
  };
}

function state(): State {
  const s = emptyState("testhome");
  s.config.gateway_http_port = 18080;
  s.hosts = {
    t1: { address: "tcp://10.213.77.2:2375", added_at: T0 },
    s1: { address: "ssh://root@10.213.77.2", added_at: T0 },
    lo: { address: "tcp://127.0.0.1:2376", added_at: T0 },
    ctx: { context: "gone", added_at: T0 },
  };
  s.envs["shop/l"] = env("l", { services: [{ name: "web", state: "running", ip: "10.224.2.3" }] });
  s.envs["shop/t"] = env("t", { host: "t1" });
  s.envs["shop/n"] = env("n", { host: "lo" });
  return s;
}

test("reach of an address: ssh forward, the host's own address for tcp://<IPv4>, none for unresolved names, loopback and other schemes", () => {
  assert.equal(hostReach("ssh://me@build1"), { via: "ssh-forward" });
  assert.equal(hostReach("tcp://10.0.0.7:2376"), { via: "remote-gateway", address: "10.0.0.7" });
  assert.match((hostReach("tcp://build1.tailnet:2376") as { why: string }).why, "its engine name build1.tailnet has not been resolved to an address yet");
  assert.match((hostReach("tcp://127.0.0.1:2376") as { why: string }).why, /loopback/);
  assert.is(hostReach("tcp://0.0.0.0:2376").via, "none");
  assert.is(hostReach("unix:///var/run/docker.sock").via, "none");
  assert.is(hostReach("tcp://10.0.0.7:2376/evil").via, "none");
  const all = hostReaches(state(), () => {
    throw new Error("no such context");
  });
  assert.is(all.get("ctx")!.via, "none");
  assert.equal(hostReaches(state(), () => "tcp://10.9.9.9:2375").get("ctx"), { via: "remote-gateway", address: "10.9.9.9" });
});

test("one host's reach (an operation on one env) is the one all hosts' reaches give it, recorded or not", () => {
  const s = state();
  const ctx = { env: { DOCKER_CONFIG: "/nonexistent/cilo-docker-config", HOME: "/nonexistent" } };
  const all = hostReachesFor(ctx, s);
  for (const name of [...Object.keys(s.hosts!), "nope", "__proto__", "toString"]) {
    assert.equal(hostReachIn(ctx, s, name), reachOf(all, name), name);
  }
  assert.equal(hostReachIn(ctx, s, "t1"), { via: "remote-gateway", address: "10.213.77.2" });
  assert.is(hostReachIn(ctx, s, "ctx").via, "none");
  assert.is(hostReachIn(ctx, emptyState("h"), "t1").via, "none");
});

test("an env's host as up reached it: the reach of the engine its context is bound to", () => {
  const at = (host: string) => ({ endpoint: () => ({ host, source: "host t1" }) }) as unknown as CiloContext;
  const t = at("tcp://10.213.77.2:2375");
  assert.equal(reachedHost(t), { ctx: t, reach: { via: "remote-gateway", address: "10.213.77.2" } });
  assert.equal(reachedHost(at("ssh://root@10.213.77.2")).reach, { via: "ssh-forward" });
  assert.is(reachedHost(at("tcp://127.0.0.1:2376")).reach.via, "none");
  // A tcp:// engine given by name: through the address its host record says the name resolved to.
  const named = at("tcp://build1.tailnet.example:2376");
  assert.is(reachedHost(named).reach.via, "none");
  const resolved = { name: "build1.tailnet.example", ipv4: "100.101.7.7", at: "2030-01-01T00:00:00.000Z" };
  assert.equal(reachedHost(named, resolved).reach, { via: "remote-gateway", address: "100.101.7.7" });
});

test("reach of a tcp:// host by name: the IPv4 address it resolved to; why not when it did not, resolved to a loopback, or names another", () => {
  const at = "2030-01-01T00:00:00.000Z";
  const name = "tcp://build1.tailnet.example:2376";
  assert.equal(hostReach(name, { name: "build1.tailnet.example", ipv4: "100.101.7.7", at }), { via: "remote-gateway", address: "100.101.7.7" });
  assert.equal(hostReach(name, { name: "build1.tailnet.example", error: "getaddrinfo ENOTFOUND build1.tailnet.example", at }), {
    via: "none",
    why: "its engine name build1.tailnet.example does not resolve to an IPv4 address (getaddrinfo ENOTFOUND build1.tailnet.example)",
  });
  assert.match(
    (hostReach(name, { name: "build1.tailnet.example", ipv4: "127.0.1.1", at }) as { why: string }).why,
    "build1.tailnet.example, which resolves to 127.0.1.1, is a loopback of this machine",
  );
  assert.match((hostReach(name, { name: "build1.tailnet.example", ipv4: "0.0.0.0", at }) as { why: string }).why, "is unspecified");
  // A resolution of another name (the context's engine moved) is not used.
  assert.match((hostReach(name, { name: "old.tailnet.example", ipv4: "100.1.1.1", at }) as { why: string }).why, "has not been resolved");
  // Names that are not RFC 1123 host names are never looked up nor reached, whatever a record says.
  for (const bad of ["tcp://my_host.example:2376", "tcp://-a.example:2376", "tcp://a..b:2376", "tcp://10.0.0:2376", `tcp://${"a".repeat(64)}.x:2376`]) {
    const r = hostReach(bad, { name: bad.slice(6, bad.lastIndexOf(":")), ipv4: "10.0.0.9", at });
    assert.is(r.via, "none", bad);
  }
  assert.is(hostReach("tcp://[fd00::1]:2376").via, "none");
  // From state: the record's resolution is the one used.
  const s = state();
  s.hosts!["n1"] = { address: name, resolved: { name: "build1.tailnet.example", ipv4: "100.101.7.7", at }, added_at: at };
  assert.equal(hostReaches(s, () => "").get("n1"), { via: "remote-gateway", address: "100.101.7.7" });
});

test("this machine's gateway: a tcp:// env's names go to the host's gateway at its address and the home's HTTP port, all of them", () => {
  const s = state();
  const routes = gatewayRoutes(s);
  for (const h of ["web.t.shop.localhost", "8080-web.t.shop.localhost", "web.t.test", "db.t.shop.localhost"]) {
    assert.is(routes.find((r) => r.hosts.includes(h))!.upstream, "10.213.77.2:18080", h);
  }
  assert.is(routes.find((r) => r.hosts.includes("web.l.shop.localhost"))!.upstream, "10.224.2.3:80");
  // Never the remote env's networks: this machine's gateway joins only local ones.
  assert.equal(gatewayNetworks(s), ["cilo_testhome_shop_l"]);
  assert.equal(Object.keys(gatewayAliases(s, routes)), ["cilo_testhome_shop_l"]);
});

test("an env on a host this machine does not reach answers 503 saying why, and needs no gateway", () => {
  const s = state();
  const n = gatewayRoutes(s).find((r) => r.hosts.includes("web.n.shop.localhost"))!;
  assert.is(n.upstream, undefined);
  assert.match(n.down!, /runs on host lo, whose names this machine does not reach: .*loopback/);
  delete s.envs["shop/l"];
  delete s.envs["shop/t"];
  assert.not.ok(gatewayNeeded(gatewayRoutes(s)));
});

test("a tcp:// host's own gateway: only that host's envs, to their container IPs, on their networks with their .test aliases", () => {
  const s = state();
  const routes = gatewayRoutes(s, { host: "t1" });
  assert.equal([...new Set(routes.map((r) => r.env))], ["shop/t"]);
  assert.is(routes.find((r) => r.hosts.includes("web.t.shop.localhost"))!.upstream, "10.224.1.3:80");
  assert.is(routes.find((r) => r.hosts.includes("8080-web.t.shop.localhost"))!.upstream, "10.224.1.3:8080");
  assert.ok(gatewayNeeded(routes));
  assert.equal(gatewayNetworks(s, "t1"), ["cilo_testhome_shop_t"]);
  assert.equal(gatewayAliases(s, routes, "t1"), { cilo_testhome_shop_t: ["db.t.test", "web.t.test"] });
  s.envs["shop/t"] = env("t", { host: "t1", status: "stopped" });
  assert.not.ok(gatewayNeeded(gatewayRoutes(s, { host: "t1" })), "no env of the host runs: its gateway goes");
});

test(".test names of a remote env answer this machine's gateway whatever the routing; local envs keep their container IPs in direct routing", () => {
  const s = state();
  s.config.routing = "direct";
  const byEnv = new Map(dnsEnvsFromState(s).map((e) => [e.env, e]));
  assert.equal(
    byEnv.get("l")!.services.map((x) => x.ip),
    ["10.224.2.3"],
  );
  assert.equal(
    byEnv.get("t")!.services.map((x) => x.ip),
    ["127.0.0.1", "127.0.0.1"],
  );
  // This machine's engine at tcp://<ip>: its gateway publishes there, so remote names answer that.
  assert.equal(
    new Map(dnsEnvsFromState(s, "10.1.2.3").map((e) => [e.env, e])).get("t")!.services.map((x) => x.ip),
    ["10.1.2.3", "10.1.2.3"],
  );
  s.envs["shop/t"] = env("t", { host: "t1", status: "stopped" });
  assert.is(new Map(dnsEnvsFromState(s).map((e) => [e.env, e])).get("t"), undefined);
});

test.run();
