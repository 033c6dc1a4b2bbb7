// The gateway's two Caddy processes (task E): a front that never changes owns the port; the back
// holds the routes and is the only one reloaded.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { gatewayCommand, GATEWAY_FRONT_PATH, renderFrontConfig } from "../../src/core/gateway/front.ts";
import { GATEWAY_BACK_SOCKET, gatewayRoutes, renderGatewayConfig } from "../../src/core/gateway/render.ts";
import { dnsEnvsFromState, gatewayDnsAddress } from "../../src/core/dns/from-state.ts";
import { baseUrl, localGateway } from "../../src/core/env/urls.ts";
import { emptyState } from "../../src/core/state/schema.ts";
import { resolveHost } from "../../src/workflow/wait/resolve-host.ts";

test("the front listens on the published port and hands every request to the back's socket, one connection each", () => {
  const front = JSON.parse(renderFrontConfig());
  assert.is(front.admin.disabled, true, "nothing ever reloads the front");
  const server = front.apps.http.servers.front;
  assert.equal(server.listen, [":80"]);
  const proxy = server.routes[0].handle[0];
  assert.equal(proxy.upstreams, [{ dial: `unix/${GATEWAY_BACK_SOCKET}` }]);
  assert.is(proxy.transport.keep_alive.enabled, false, "no idle connection to the back for a reload to close");
  assert.is(renderFrontConfig(), renderFrontConfig());
});

test("the back listens on the socket, not the port, and proxies without flush_interval -1 (Caddy 2.6 cut requests on reload with it)", () => {
  const s = emptyState("testhome");
  s.envs["shop/a"] = {
    project: "shop",
    name: "a",
    docker_name: "cilo_testhome_shop_a",
    status: "running",
    subnet: "10.224.9.0/24",
    workspace: "/h/envs/shop/a",
    created_at: "2030-01-01T00:00:00.000Z",
    updated_at: "2030-01-01T00:00:00.000Z",
    services: [{ name: "web", state: "running", ip: "10.224.9.2" }],
  };
  const back = JSON.parse(renderGatewayConfig(gatewayRoutes(s)));
  assert.equal(back.apps.http.servers.cilo.listen, [`unix/${GATEWAY_BACK_SOCKET}`]);
  const proxies = back.apps.http.servers.cilo.routes
    .flatMap((r: { handle: { handler: string }[] }) => r.handle)
    .filter((h: { handler: string }) => h.handler === "reverse_proxy");
  assert.ok(proxies.length > 0);
  for (const p of proxies) assert.not.ok("flush_interval" in p, JSON.stringify(p));
  // Caddy's default pool (32 idle per upstream) redials above 32 requests in flight to one service.
  for (const p of proxies) assert.equal(p.transport.keep_alive, { max_idle_conns_per_host: 1024, idle_timeout: "2m", probe_interval: "30s" });
});

test("the container starts the front, then runs the back as its main process, both on one Go scheduler thread with GOGC=400", () => {
  const cmd = gatewayCommand();
  assert.equal(cmd.slice(0, 2), ["sh", "-c"]);
  assert.match(
    cmd[2]!,
    new RegExp(`^export GOMAXPROCS=1 GOGC=400; caddy start --config ${GATEWAY_FRONT_PATH} .*&& exec caddy run --config /etc/caddy/cilo.json$`),
  );
});

test("in gateway routing, .test names answer the gateway's address: the engine's for tcp://, else the loopback", () => {
  assert.is(gatewayDnsAddress("tcp://10.213.77.2:2375"), "10.213.77.2");
  assert.is(gatewayDnsAddress("unix:///var/run/docker.sock"), "127.0.0.1");
  assert.is(gatewayDnsAddress("ssh://me@box"), "127.0.0.1", "ssh: published on the engine host's loopback (docs/routing.md)");
  const s = emptyState("testhome");
  s.config.routing = "gateway";
  s.envs["shop/a"] = {
    project: "shop",
    name: "a",
    docker_name: "cilo_testhome_shop_a",
    status: "running",
    subnet: "10.224.9.0/24",
    workspace: "/h/envs/shop/a",
    created_at: "2030-01-01T00:00:00.000Z",
    updated_at: "2030-01-01T00:00:00.000Z",
    services: [{ name: "web", state: "running", ip: "10.224.9.2" }],
  };
  assert.equal(
    dnsEnvsFromState(s, gatewayDnsAddress("tcp://10.213.77.2:2375")).flatMap((e) => e.services.map((x) => x.ip)),
    ["10.213.77.2"],
  );
});

test("the base URL is http://<env>.<project>.localhost[:port] through a local gateway, else the .test one", () => {
  assert.is(baseUrl("shop", "a", "test", { gateway_http_port: 18080 }, true), "http://a.shop.localhost:18080");
  assert.is(baseUrl("shop", "a", "test", {}, true), "http://a.shop.localhost", "port 80 is left out");
  assert.is(baseUrl("shop", "a", "test", { gateway_http_port: 18080 }, false), "http://shop.a.test");
  assert.is(baseUrl("shop", "a", "test"), "http://shop.a.test", "no config: as before");
  assert.is(localGateway({ CILO_GATEWAY: "off" }, "unix:///var/run/docker.sock"), false);
  assert.is(localGateway({}, "unix:///var/run/docker.sock"), true);
  assert.is(localGateway({}, "tcp://10.213.77.2:2375"), false, "a tcp:// engine's gateway is not on the loopback");
});

test("cilo's HTTP wait resolves *.localhost to the loopback itself (glibc may not)", async () => {
  assert.is(await resolveHost("a.shop.localhost", undefined), "127.0.0.1");
  assert.is(await resolveHost("WEB.A.Shop.Localhost.", { server: "127.0.0.1:1", suffixes: ["test"] }), "127.0.0.1");
  assert.is(await resolveHost("example.org", undefined), "example.org");
});

test.run();
