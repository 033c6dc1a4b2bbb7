// Names of envs on hosts (issue 17 item 4, docs/remote.md "Names"): what an env's ssh forward
// listens on and where it leads, its ssh arguments, and the gateway routes that dial its sockets.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tunnelArgs, tunnelPlan } from "../../src/core/forward/tunnel.ts";
import { GATEWAY_TUNNEL_DIR, tunnelSocketName } from "../../src/core/gateway/tunnel-names.ts";
import { gatewayAliases, gatewayNeeded, gatewayNetworks, gatewayRoutes } from "../../src/core/gateway/render.ts";
import { emptyState, type EnvRecord } from "../../src/core/state/schema.ts";

const T0 = "2030-01-01T00:00:00.000Z";

function remote(over: Partial<EnvRecord> = {}): EnvRecord {
  return {
    project: "shop",
    name: "r",
    docker_name: "cilo_testhome_shop_r",
    status: "running",
    subnet: "10.224.1.0/24",
    workspace: "/h/envs/shop/r",
    created_at: T0,
    updated_at: T0,
    host: "r1",
    services: [
      { name: "db", state: "running", ip: "10.224.1.4", port: 5432, tcp: [5432] },
      { name: "web", state: "running", ip: "10.224.1.3", ports: [80, 8080] },
    ],
    ...over,
  };
}

const forwards = [{ service: "db", port: 5432, address: "127.0.0.1", host_port: 15003 }];

test("plan: a socket per HTTP port of each service with an address, the TCP forwards on loopback ports, each to the container IP", () => {
  const plan = tunnelPlan(remote(), forwards);
  assert.equal(
    plan.map((l) => [l.kind, l.service, l.port, l.listen, l.target]),
    [
      ["http", "web", 80, tunnelSocketName("shop", "r", "web", 80), "10.224.1.3:80"],
      ["http", "web", 8080, tunnelSocketName("shop", "r", "web", 8080), "10.224.1.3:8080"],
      ["tcp", "db", 5432, "127.0.0.1:15003", "10.224.1.4:5432"],
    ],
  );
  // The database's port is a TCP port: no HTTP socket for it.
  assert.not.ok(plan.some((l) => l.kind === "http" && l.service === "db"));
  assert.equal(tunnelPlan(remote({ status: "stopped" }), forwards), []);
  assert.match(tunnelSocketName("shop", "r", "web", 80), /^[0-9a-f]{20}\.sock$/);
  assert.is.not(tunnelSocketName("shop", "r", "web", 80), tunnelSocketName("shop", "r2", "web", 80));
});

test("plan: addresses and ports from state are checked where they go into the command line", () => {
  assert.throws(() => tunnelPlan(remote({ services: [{ name: "web", ip: "10.0.0.1 -oProxyCommand=x", port: 80 }] }), []), /not an IP address/);
  assert.throws(() => tunnelPlan(remote(), [{ ...forwards[0]!, host_port: 0 }]), /not a port number/);
  assert.throws(() => tunnelPlan(remote(), [{ ...forwards[0]!, address: "0.0.0.0" }]), /not 127\.0\.0\.1/);
});

test("ssh arguments: its own connection, no shell, fails when a forward cannot listen, the host last after --", () => {
  const args = tunnelArgs("ssh://me@build1:2222", "/h/tunnels", tunnelPlan(remote(), forwards));
  assert.equal(args.slice(0, 2), ["-N", "-T"]);
  for (const o of ["BatchMode=yes", "ExitOnForwardFailure=yes", "ControlPath=none", "StreamLocalBindUnlink=yes", "ServerAliveInterval=5"]) {
    assert.ok(args.includes(o), o);
  }
  assert.equal(args.slice(args.indexOf("-p"), args.indexOf("-p") + 2), ["-p", "2222"]);
  assert.equal(args.slice(args.indexOf("-l"), args.indexOf("-l") + 2), ["-l", "me"]);
  assert.equal(
    args.filter((_, i) => args[i - 1] === "-L"),
    [
      `/h/tunnels/${tunnelSocketName("shop", "r", "web", 80)}:10.224.1.3:80`,
      `/h/tunnels/${tunnelSocketName("shop", "r", "web", 8080)}:10.224.1.3:8080`,
      "127.0.0.1:15003:10.224.1.4:5432",
    ],
  );
  assert.equal(args.slice(-2), ["--", "build1"]);
});

test("gateway: a remote env's names are routed to its sockets in the mounted tunnels folder, never to its networks", () => {
  const s = emptyState("testhome");
  s.hosts = { r1: { address: "ssh://root@10.213.77.2", added_at: T0 } };
  s.envs["shop/r"] = remote();
  const routes = gatewayRoutes(s);
  const web = routes.find((r) => r.hosts.includes("web.r.shop.localhost"))!;
  assert.is(web.upstream, `unix/${GATEWAY_TUNNEL_DIR}/${tunnelSocketName("shop", "r", "web", 80)}`);
  const port = routes.find((r) => r.hosts.includes("8080-web.r.shop.localhost"))!;
  assert.is(port.upstream, `unix/${GATEWAY_TUNNEL_DIR}/${tunnelSocketName("shop", "r", "web", 8080)}`);
  assert.ok(gatewayNeeded(routes));
  assert.equal(gatewayNetworks(s), []);
  assert.equal(gatewayAliases(s, routes), {});
  s.envs["shop/r"] = remote({ status: "stopped" });
  assert.match(gatewayRoutes(s).find((r) => r.hosts.includes("web.r.shop.localhost"))!.down ?? "", /stopped\. Start it with: cilo up shop\/r/);
});

test.run();
