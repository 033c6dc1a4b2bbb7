// The gateway (issue 12): routing table and Caddy config rendered from state, the port rule.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { containerPorts, httpPort, serviceRecordsFromModel } from "../../src/core/env/services.ts";
import { gatewayAliases, gatewayNeeded, gatewayNetworks, gatewayRoutes, gatewayUrl, renderGatewayConfig } from "../../src/core/gateway/render.ts";
import { gatewaySettings, publishAddress } from "../../src/core/gateway/gateway.ts";
import { diagnose } from "../../src/core/reconcile/diagnose.ts";
import type { ReconcileFacts } from "../../src/core/reconcile/facts.ts";
import type { ContainerState } from "../../src/core/runtime/provider.ts";
import { emptyState, STATE_VERSION, type EnvRecord, type State } from "../../src/core/state/schema.ts";
import { validateState } from "../../src/core/state/validate.ts";
import { dnsEnvsFromState } from "../../src/core/dns/from-state.ts";
import { effectiveRouting, needsProbe } from "../../src/core/gateway/routing.ts";
import { parseInitOptions } from "../../src/cli/commands/init.ts";

const T0 = "2030-01-01T00:00:00.000Z";

function env(project: string, name: string, over: Partial<EnvRecord> = {}): EnvRecord {
  return {
    project,
    name,
    docker_name: `cilo_testhome_${project}_${name}`,
    status: "running",
    subnet: `10.224.${project.length * 10 + name.length}.0/24`,
    workspace: `/h/envs/${project}/${name}`,
    created_at: T0,
    updated_at: T0,
    services: [
      { name: "api", state: "running", ip: "10.224.1.2", port: 8080 },
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

type Route = {
  match?: { host?: string[]; expression?: string }[];
  handle: {
    handler: string;
    upstreams?: { dial: string }[];
    status_code?: number;
    body?: string;
    mappings?: { input: string; outputs: string[] }[];
    defaults?: string[];
  }[];
  terminal?: boolean;
};
function caddyRoutes(json: string): Route[] {
  return JSON.parse(json).apps.http.servers.cilo.routes as Route[];
}

test("every service answers at <service>.<env>.<project>.localhost and its .test name, on its port", () => {
  const routes = gatewayRoutes(stateOf(env("shop", "a")));
  const api = routes.find((r) => r.service === "api" && r.hosts.includes("api.a.shop.localhost"))!;
  assert.equal(api.hosts, ["api.a.shop.localhost", "api.a.test"]);
  assert.is(api.upstream, "10.224.1.2:8080");
  const web = routes.find((r) => r.service === "web" && !r.hosts[0]!.startsWith("*"))!;
  assert.equal(web.hosts, ["web.a.shop.localhost", "a.shop.localhost", "shop.a.shop.localhost", "web.a.test", "shop.a.test"]);
  assert.is(web.upstream, "10.224.1.3:80", "no port recorded: 80");
  // Wildcards come after every exact name.
  const last = routes.at(-1)!;
  assert.equal(last.hosts, ["*.shop.a.shop.localhost", "*.shop.a.test"]);
});

test("two projects with the same env and service names get different .localhost names", () => {
  const s = stateOf(env("shop", "c1", { dns_suffix: "shop.test" }), env("blog", "c1", { subnet: "10.224.200.0/24", dns_suffix: "blog.test" }));
  const hosts = gatewayRoutes(s).flatMap((r) => r.hosts);
  assert.ok(hosts.includes("api.c1.shop.localhost") && hosts.includes("api.c1.blog.localhost"));
  assert.is(new Set(hosts).size, hosts.length);
});

test("a name two envs would answer is refused; a name that is not a DNS name is refused", () => {
  const s = stateOf(env("shop", "c1"), env("blog", "c1", { subnet: "10.224.200.0/24" }));
  assert.throws(
    () => gatewayRoutes(s),
    (e: any) => e.code === "E_DNS_COLLISION" && e.exitCode === 2,
  );
  const bad = stateOf(env("shop", "a", { services: [{ name: "Web", ip: "10.224.1.3" }] }));
  assert.throws(
    () => gatewayRoutes(bad),
    (e: any) => e.code === "E_DNS_INVALID_NAME",
  );
  const badIp = stateOf(env("shop", "a", { services: [{ name: "web", ip: "10.224.1.3\n" }] }));
  assert.throws(
    () => gatewayRoutes(badIp),
    (e: any) => e.code === "E_DNS_INVALID_IP",
  );
});

test("a down env's names answer 503 naming the env and the command that starts it", () => {
  const s = stateOf(env("shop", "a"), env("shop", "b", { status: "stopped", services: [{ name: "web", state: "stopped", ingress: true }] }));
  const routes = gatewayRoutes(s);
  const b = routes.find((r) => r.hosts.includes("web.b.shop.localhost"))!;
  assert.is(b.upstream, undefined);
  assert.is(b.down, "The env shop/b is stopped. Start it with: cilo up shop/b");
  const page = caddyRoutes(renderGatewayConfig(routes)).find((r) => r.match?.[0]?.host?.includes("web.b.shop.localhost"))!;
  assert.is(page.handle[0]!.status_code, 503);
  assert.match(page.handle[0]!.body!, "cilo up shop/b");
  const noIp = gatewayRoutes(stateOf(env("shop", "a", { services: [{ name: "web", state: "missing" }] })));
  assert.match(noIp[0]!.down!, "has no running container");
});

test("a service with several ports gets <port>-<service> names", () => {
  const s = stateOf(env("shop", "a", { services: [{ name: "api", ip: "10.224.1.2", port: 3000, ports: [3000, 9229] }] }));
  const routes = gatewayRoutes(s);
  assert.equal(
    routes.map((r) => [r.hosts[0], r.upstream]),
    [
      ["api.a.shop.localhost", "10.224.1.2:3000"],
      ["3000-api.a.shop.localhost", "10.224.1.2:3000"],
      ["9229-api.a.shop.localhost", "10.224.1.2:9229"],
    ],
  );
});

test("the Caddy config is deterministic, proxies by host, and ends with a 404 for unknown names", () => {
  const a = stateOf(env("shop", "a"), env("shop", "b", { subnet: "10.224.99.0/24" }));
  const b = stateOf(env("shop", "b", { subnet: "10.224.99.0/24" }), env("shop", "a"));
  const one = renderGatewayConfig(gatewayRoutes(a));
  assert.is(one, renderGatewayConfig(gatewayRoutes(b)), "same state, same bytes (env order does not matter)");
  const cfg = JSON.parse(one);
  assert.equal(cfg.apps.http.servers.cilo.listen, ["unix//tmp/cilo-back.sock"], "the back; the front (front.ts) owns :80");
  assert.equal(cfg.apps.http.servers.cilo.automatic_https, { disable: true });
  const routes = caddyRoutes(one);
  const api = routes.find((r) => r.match?.[0]?.host?.includes("api.a.shop.localhost"))!;
  assert.equal(api.handle[0]!.upstreams, [{ dial: "10.224.1.2:8080" }]);
  assert.is(routes.at(-1)!.match, undefined);
  assert.is(routes.at(-1)!.handle[0]!.status_code, 404);
});

test("a fast path comes first: one map from each exact name with an upstream to it, and one proxy dialling what it found", () => {
  const s = stateOf(
    env("shop", "a", { services: [{ name: "web", state: "running", ip: "10.224.1.2", ingress: true, hostnames: ["admin"] }] }),
    env("shop", "b", { status: "stopped", subnet: "10.224.99.0/24" }),
  );
  const routes = caddyRoutes(renderGatewayConfig(gatewayRoutes(s)));
  const [map, proxy] = routes;
  assert.is(map!.match, undefined, "the map runs for every request");
  assert.is(map!.terminal, undefined, "and hands on to the routes below");
  const mappings = map!.handle[0]!.mappings!;
  assert.equal(map!.handle[0]!.defaults, [""]);
  const inputs = mappings.map((m) => m.input);
  assert.ok(inputs.includes("web.a.shop.localhost") && inputs.includes("web.a.test") && inputs.includes("admin.a.shop.localhost"), inputs.join(" "));
  assert.ok(
    mappings.every((m) => m.outputs[0] === "10.224.1.2:80"),
    "only env a runs",
  );
  assert.not.ok(
    inputs.some((i) => i.includes("*") || i.includes(".b.")),
    "no wildcard, no down env: those fall through to their routes",
  );
  assert.equal(new Set(inputs).size, inputs.length);
  assert.equal(proxy!.match, [{ expression: "{cilo.upstream} != ''" }]);
  assert.equal(proxy!.handle[0]!.upstreams, [{ dial: "{cilo.upstream}" }]);
  assert.is(proxy!.terminal, true);
  // The routes by name stay behind it (other letter cases, wildcards, 503 pages, certificate names).
  assert.ok(routes.some((r) => r.match?.[0]?.host?.includes("*.shop.a.shop.localhost")));
  assert.ok(routes.some((r) => r.match?.[0]?.host?.includes("web.b.shop.localhost") && r.handle[0]!.status_code === 503));
  // Nothing to proxy: no fast path.
  const none = caddyRoutes(renderGatewayConfig(gatewayRoutes(stateOf(env("shop", "b", { status: "stopped" })))));
  assert.not.ok(none.some((r) => r.handle[0]!.handler === "map"));
});

test("the gateway is needed while some env has a route to proxy; it joins those envs' networks", () => {
  assert.not.ok(gatewayNeeded(gatewayRoutes(stateOf())));
  assert.not.ok(gatewayNeeded(gatewayRoutes(stateOf(env("shop", "a", { status: "stopped" })))));
  const s = stateOf(env("shop", "a"), env("shop", "b", { status: "stopped", subnet: "10.224.99.0/24" }));
  assert.ok(gatewayNeeded(gatewayRoutes(s)));
  assert.equal(gatewayNetworks(s), ["cilo_testhome_shop_a"]);
  s.shared = { shop: { project: "shop", network: "cilo_testhome_shop__shared", subnet: "10.224.250.0/24", services: {} } };
  s.envs["shop/a"]!.services.push({ name: "db", ip: "10.224.250.2", shared: true });
  assert.equal(gatewayNetworks(s), ["cilo_testhome_shop__shared", "cilo_testhome_shop_a"]);
});

test("inside an env network the gateway answers to the env's exact .test names, not .localhost or wildcards", () => {
  const s = stateOf(env("shop", "a"), env("shop", "b", { status: "stopped", subnet: "10.224.99.0/24" }));
  assert.equal(gatewayAliases(s), { cilo_testhome_shop_a: ["api.a.test", "shop.a.test", "web.a.test"] });
  s.shared = { shop: { project: "shop", network: "cilo_testhome_shop__shared", subnet: "10.224.250.0/24", services: {} } };
  s.envs["shop/a"]!.services.push({ name: "db", ip: "10.224.250.2", shared: true });
  assert.not.ok("cilo_testhome_shop__shared" in gatewayAliases(s), "a shared network gets no aliases");
});

test("port rule: cilo.port label, else the single exposed or published container port, else none (80)", () => {
  assert.equal(containerPorts({ expose: ["8080"] }), [8080]);
  assert.equal(containerPorts({ ports: [{ target: 3000, published: "8080", protocol: "tcp" }] }), [3000]);
  assert.equal(containerPorts({ ports: ["127.0.0.1:8080:80/tcp", "9229", "53:53/udp", "7000-7001:7000-7001"] }), [80, 9229]);
  assert.equal(containerPorts({ expose: ["8080/tcp", 5000], ports: [{ target: 8080 }] }), [5000, 8080]);
  assert.equal(containerPorts({}), []);
  assert.is(httpPort("web", "3000", [80]), 3000);
  assert.is(httpPort("web", undefined, [8080]), 8080);
  assert.is(httpPort("web", undefined, []), undefined);
  assert.throws(
    () => httpPort("web", "http", []),
    (e: any) => e.exitCode === 2,
  );
  const records = serviceRecordsFromModel(
    {
      services: {
        web: { image: "x", ports: [{ target: 80, published: 8080 }] },
        api: { image: "x", labels: { "cilo.port": "8080" } },
        dbg: { image: "x", expose: ["3000", "9229"] },
        none: { image: "x" },
      },
    },
    {},
  );
  assert.equal(
    records.map((r) => [r.name, r.port, r.ports]),
    [
      ["api", 8080, undefined],
      ["dbg", 3000, [3000, 9229]],
      ["none", undefined, undefined],
      ["web", 80, undefined],
    ],
  );
});

test("settings: CILO_GATEWAY_IMAGE over state over caddy:2; loopback for local engines, the engine's address for tcp://", () => {
  const s = stateOf();
  assert.equal(gatewaySettings(s, "unix:///var/run/docker.sock (default socket)", {}), {
    image: "caddy:2",
    address: "127.0.0.1",
    httpPort: 80,
    httpsPort: 443,
  });
  s.config.gateway_image = "my/caddy:1";
  s.config.gateway_http_port = 18080;
  s.config.gateway_https_port = 18443;
  assert.equal(gatewaySettings(s, undefined, {}), { image: "my/caddy:1", address: "127.0.0.1", httpPort: 18080, httpsPort: 18443 });
  assert.is(gatewaySettings(s, undefined, { CILO_GATEWAY_IMAGE: "cilo-test/caddy" }).image, "cilo-test/caddy");
  assert.throws(
    () => gatewaySettings(s, undefined, { CILO_GATEWAY_IMAGE: "--privileged" }),
    (e: any) => e.exitCode === 2,
  );
  assert.is(publishAddress("tcp://10.213.77.2:2375 (DOCKER_HOST)"), "10.213.77.2");
  assert.is(publishAddress("ssh://me@host"), "127.0.0.1");
  assert.is(gatewayUrl("web.a.shop.localhost", 80), "http://web.a.shop.localhost/");
  assert.is(gatewayUrl("web.a.shop.localhost", 18080), "http://web.a.shop.localhost:18080/");
});

test("state: gateway settings and service ports are optional and validated; init flags set them", () => {
  const s = stateOf(env("shop", "a"));
  assert.equal(validateState(s), []);
  s.config.gateway_http_port = 0;
  s.config.routing = "sideways" as any;
  s.config.gateway_image = "a b";
  s.envs["shop/a"]!.services[0]!.port = 70000;
  assert.is(validateState(s).length, 4);
  assert.equal(parseInitOptions({ gatewayHttpPort: "18080", gatewayHttpsPort: 18443, gatewayImage: "cilo-test/caddy:latest", routing: "gateway" }), {
    gateway_http_port: 18080,
    gateway_https_port: 18443,
    gateway_image: "cilo-test/caddy:latest",
    routing: "gateway",
  });
  for (const bad of [{ gatewayHttpPort: "http" }, { routing: "sometimes" }, { gatewayImage: "-x" }]) {
    assert.throws(
      () => parseInitOptions(bad as any),
      (e: any) => e.exitCode === 2,
    );
  }
});

test("routing gateway: .test names answer the gateway's address", () => {
  const s = stateOf(env("shop", "a"));
  assert.is(dnsEnvsFromState(s)[0]!.services[0]!.ip, "10.224.1.2");
  s.config.routing = "gateway";
  assert.equal(
    dnsEnvsFromState(s)[0]!.services.map((x) => x.ip),
    ["127.0.0.1", "127.0.0.1"],
  );
});

test("routing auto (the default): direct until probed; the probe's finding picks direct or gateway; direct/gateway as set", () => {
  const s = stateOf(env("shop", "a"));
  assert.is(effectiveRouting(s.config).mode, "direct");
  assert.match(effectiveRouting(s.config).why, /not probed yet/);
  assert.ok(needsProbe(s.config, "unix:///var/run/docker.sock"));
  s.config.routing_probe = { endpoint: "tcp://10.213.77.2:2375", target: "172.17.0.2:80", reachable: false, at: T0 };
  assert.is(effectiveRouting(s.config).mode, "gateway");
  assert.match(effectiveRouting(s.config).why, /cannot reach container IPs of tcp:\/\/10\.213\.77\.2:2375/);
  assert.equal(
    dnsEnvsFromState(s)[0]!.services.map((x) => x.ip),
    ["127.0.0.1", "127.0.0.1"],
  );
  assert.not.ok(needsProbe(s.config, "tcp://10.213.77.2:2375"), "probed once per endpoint");
  assert.ok(needsProbe(s.config, "unix:///var/run/docker.sock"), "another endpoint is probed again");
  s.config.routing_probe.reachable = true;
  assert.is(effectiveRouting(s.config).mode, "direct");
  s.config.routing = "gateway";
  assert.equal(effectiveRouting(s.config), { mode: "gateway", why: "set with cilo init --routing gateway" });
  assert.not.ok(needsProbe(s.config, "unix:///x"), "a mode set by hand is never probed");
  assert.equal(validateState(s), []);
  (s.config as unknown as Record<string, unknown>)["routing_probe"] = { endpoint: 1 };
  assert.ok(validateState(s).some((p) => p.includes("routing_probe")));
  assert.equal(parseInitOptions({ routing: "auto" }).routing, "auto");
});

function facts(state: State, containers: ReconcileFacts["docker"] extends infer D ? (D extends { containers: infer C } ? C : never) : never): ReconcileFacts {
  return {
    home: "/h",
    envsRoots: ["/h/envs"],
    checks: [],
    state: { kind: "ok", state, versionOnDisk: STATE_VERSION },
    docker: { kind: "ok", containers, networks: [], volumes: [] },
    workspaces: Object.keys(state.envs),
    staging: [],
    tmpFiles: [],
    locks: [],
    watchedOwners: [],
    sharedProjects: [],
    sharedGraceMs: 60_000,
    now: Date.parse("2030-01-01T00:00:00Z"),
    composeBusy: [],
    liveHomes: [],
    gatewayEnabled: true,
    alive: () => false,
  };
}

/** The containers the doctor tests judge: env shop/a's web, this home's gateway. */
const ENV_LABELS = { "cilo.managed": "true", "cilo.home": "testhome", "cilo.project": "shop", "cilo.env": "a" };
const webC: ContainerState = {
  id: "c1",
  name: "cilo_testhome_shop_a_web_1",
  labels: { ...ENV_LABELS, "cilo.service": "web" },
  state: "running",
  ips: { cilo_testhome_shop_a: "10.224.1.3" },
};
const gw: ContainerState = {
  id: "g1",
  name: "cilo_testhome_gateway",
  labels: { "cilo.managed": "true", "cilo.home": "testhome", "cilo.gateway": "true" },
  state: "running",
  ips: {},
};

test("doctor: a missing gateway while envs run is found; this home's gateway is never an orphan", () => {
  const s = stateOf(env("shop", "a", { services: [] }));
  s.envs["shop/a"]!.services = [{ name: "web", ip: "10.224.1.3" }];
  const ids = (f: ReconcileFacts) => diagnose(f).map((x) => x.id);
  assert.equal(ids(facts(s, [webC])), ["gateway-missing"]);
  assert.equal(ids(facts(s, [webC, { ...gw, state: "exited" }])), ["gateway-missing"]);
  assert.equal(ids(facts(s, [webC, gw])), []);
  assert.equal(ids({ ...facts(s, [webC]), gatewayEnabled: false }), []);
  s.envs["shop/a"]!.status = "stopped";
  s.envs["shop/a"]!.services = [{ name: "web", state: "stopped" }];
  assert.equal(ids(facts(s, [gw])), ["gateway-unneeded"]);
});

test("doctor: a running env's TCP forward container removed or stopped is forward-missing; a stopped env's is not judged", () => {
  const s = stateOf(env("shop", "a", { services: [] }));
  s.envs["shop/a"]!.services = [{ name: "web", ip: "10.224.1.3" }];
  s.envs["shop/a"]!.forwards = [{ service: "db", port: 5432, address: "127.0.0.1", host_port: 15001 }];
  const fwd: ContainerState = {
    id: "f1",
    name: "cilo_testhome_shop_a_fwd_db_5432",
    labels: { ...ENV_LABELS, "cilo.forward": "true" },
    state: "running",
    ips: {},
  };
  const found = (cs: ContainerState[]) => diagnose(facts(s, cs));
  assert.equal(
    found([webC, gw, fwd]).map((x) => x.id),
    [],
  );
  const missing = found([webC, gw]);
  assert.equal(
    missing.map((x) => x.id),
    ["forward-missing"],
  );
  assert.match(missing[0]!.message, "127.0.0.1:15001 -> db:5432 of shop/a is not running");
  assert.equal(missing[0]!.target, { kind: "env", project: "shop", env: "a" });
  assert.equal(
    found([webC, gw, { ...fwd, state: "exited" }]).map((x) => x.id),
    ["forward-missing"],
  );
  assert.equal(ids({ ...facts(s, [webC, gw]), gatewayEnabled: false }), []);
  s.envs["shop/a"]!.status = "stopped";
  s.envs["shop/a"]!.services = [{ name: "web", state: "stopped" }];
  assert.not.ok(
    found([]).some((x) => x.id === "forward-missing"),
    "a stopped env holds its ports but needs no forward",
  );
});

function ids(f: ReconcileFacts): string[] {
  return diagnose(f).map((x) => x.id);
}

test.run();
