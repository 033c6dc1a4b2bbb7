// The gateway containers' names (issue 17): this machine's is cilo_<home id>_gateway, a tcp:// host's
// is named after the host, so a host whose engine is this machine's own engine holds both, each
// with its own routes and address, instead of one container both syncs would rewrite or remove.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { findGateway } from "../../src/core/gateway/gateway.ts";
import { syncEnvGateways } from "../../src/core/forward/remote-names.ts";
import { gatewayContainerName } from "../../src/core/labels.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";
import { testContext } from "../helpers/context.ts";
import { FakeProvider } from "../helpers/fake-provider.ts";
import { initRemoteEnvHome } from "../helpers/remote-env.ts";

const ADDR = "10.213.77.9";

test("names: this machine's gateway, and one per host with the host's name after a dot (in no project, env or compose name)", () => {
  assert.is(gatewayContainerName("abc123"), "cilo_abc123_gateway");
  assert.is(gatewayContainerName("abc123", "t1"), "cilo_abc123_gateway.t1");
  assert.is.not(gatewayContainerName("abc123", "t1"), gatewayContainerName("abc123"));
});

test("a tcp:// host whose engine is this machine's own: two gateways, each kept by its own sync, on their own addresses", async () => {
  const home = tempDir("cilo-unit-gwnames-");
  try {
    // One engine for both: this machine's context and the one bound to tcp://<ADDR>:2375 get the same fake.
    const engine = new FakeProvider("unix:///var/run/docker.sock");
    const ctx = testContext({ home, provider: engine, env: { CILO_GATEWAY_IMAGE: "caddy:2" } });
    const { homeId, docker } = await initRemoteEnvHome(ctx, `tcp://${ADDR}:2375`, [{ name: "web", state: "running", ip: "10.224.9.2" }]);
    engine.addNetwork({ name: docker });
    const gateways = () =>
      engine.containers
        .filter((c) => c.labels["cilo.gateway"] === "true")
        .map((c) => `${c.name} ${c.state} ${c.labels["cilo.gateway.settings"]!.split(" ")[1]}`)
        .sort();
    const want = [`cilo_${homeId}_gateway running 127.0.0.1:80`, `cilo_${homeId}_gateway.t1 running ${ADDR}:80`];
    await syncEnvGateways(ctx, "t1");
    assert.equal(gateways(), want);
    // The host's gateway is on the env's network (it routes to its container IPs); this machine's is not.
    const byName = (n: string) => engine.containers.find((c) => c.name === n)!;
    assert.ok(docker in byName(gatewayContainerName(homeId, "t1")).ips);
    assert.not.ok(docker in byName(gatewayContainerName(homeId)).ips);
    // Synced again, each is kept (reloaded): neither removes nor takes the other.
    const ids = engine.containers.map((c) => c.id).sort();
    await syncEnvGateways(ctx, "t1");
    assert.equal(engine.containers.map((c) => c.id).sort(), ids);
    assert.equal(engine.removed, []);
    // The host's own sync finds only its gateway; this machine's is never taken for an old host gateway.
    assert.equal(
      (await findGateway(engine, homeId, "t1", ADDR)).map((c) => c.name),
      [gatewayContainerName(homeId, "t1")],
    );
  } finally {
    removeDir(home);
  }
});

test("a host's gateway of an older cilo (cilo_<home id>_gateway on the host's engine, published on the host's address) is found to be replaced", async () => {
  const engine = new FakeProvider(`tcp://${ADDR}:2375`);
  const labels = (addr: string) => ({
    "cilo.managed": "true",
    "cilo.gateway": "true",
    "cilo.home": "abc123",
    "cilo.gateway.settings": `caddy:2 ${addr}:80 https:443 ca:0 x`,
  });
  engine.addContainer({ name: "cilo_abc123_gateway", labels: labels(ADDR) });
  assert.equal(
    (await findGateway(engine, "abc123", "t1", ADDR)).map((c) => c.name),
    ["cilo_abc123_gateway"],
  );
  assert.equal(await findGateway(engine, "abc123", "t1", "10.0.0.1"), []);
  engine.containers[0]!.labels = labels("127.0.0.1");
  assert.equal(await findGateway(engine, "abc123", "t1", ADDR), [], "this machine's gateway on the same engine is not the host's");
  assert.equal(
    (await findGateway(engine, "abc123")).map((c) => c.name),
    ["cilo_abc123_gateway"],
  );
});

test.run();
