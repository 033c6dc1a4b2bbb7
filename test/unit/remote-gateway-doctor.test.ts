// doctor's remote-gateway-down (issue 17, docs/remote.md "Names of envs on a tcp:// host"): a running
// env on a tcp:// host whose gateway or TCP forward containers on that host's engine are missing or
// stopped is found, and --fix makes them again as cilo up does. Two fake engines: this machine's and
// the host's (a context bound to the host's endpoint gets the host's fake).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { envDockerName, gatewayContainerName } from "../../src/core/labels.ts";
import { runDoctor } from "../../src/core/reconcile/run-doctor.ts";
import { readState, withState } from "../../src/core/state/store.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";
import { testContext, type TestContext } from "../helpers/context.ts";
import { FakeProvider } from "../helpers/fake-provider.ts";
import { initRemoteEnvHome } from "../helpers/remote-env.ts";

const ADDR = "10.213.77.9";
const TCP = `tcp://${ADDR}:2375`;

/** A home with host t1 (tcp://), env shop/n1 running on it (web over HTTP, echo over TCP), and its containers on the host's engine. */
async function setup(): Promise<{ ctx: TestContext; host: FakeProvider; home: string; homeId: string }> {
  const home = tempDir("cilo-unit-rgw-");
  const host = new FakeProvider(TCP);
  const ctx = testContext({ home, engines: { [TCP]: host }, env: { CILO_GATEWAY_IMAGE: "caddy:2" } });
  const { homeId, docker } = await initRemoteEnvHome(ctx, TCP, [
    { name: "web", state: "running", ip: "10.224.9.2" },
    { name: "echo", state: "running", ip: "10.224.9.3", tcp: [7000] },
  ]);
  const labels = (service: string) => ({ "cilo.managed": "true", "cilo.home": homeId, "cilo.project": "shop", "cilo.env": "n1", "cilo.service": service });
  host.addContainer({ name: `${docker}_web_1`, labels: labels("web"), ips: { [docker]: "10.224.9.2" } });
  host.addContainer({ name: `${docker}_echo_1`, labels: labels("echo"), ips: { [docker]: "10.224.9.3" } });
  host.addNetwork({ name: docker, labels: { "cilo.managed": "true", "cilo.home": homeId, "cilo.project": "shop", "cilo.env": "n1" } });
  return { ctx, host, home, homeId };
}

const remoteIds = (r: { findings: { id: string }[] }) => r.findings.map((f) => f.id).filter((id) => id === "remote-gateway-down");

test("a tcp:// host's gateway and forward missing are found for its running env; --fix makes them on the host's engine, as up does", async () => {
  const { ctx, host, home, homeId } = await setup();
  try {
    const before = await runDoctor(ctx);
    const f = before.findings.find((x) => x.id === "remote-gateway-down");
    assert.ok(f, JSON.stringify(before.findings));
    assert.is(f!.subject, "shop/n1");
    assert.equal(f!.target, { kind: "env", project: "shop", env: "n1" });
    assert.match(f!.message, `the gateway ${gatewayContainerName(homeId, "t1")} on host t1 does not exist`);
    // The forward is not in state yet (up never ran): only the gateway is named.
    const fixed = await runDoctor(ctx, { fix: true });
    assert.equal(remoteIds(fixed), [], JSON.stringify(fixed));
    assert.ok(
      fixed.fixed.some((x) => x.id === "remote-gateway-down" && x.message.startsWith("synced the gateway on host t1 and its TCP forwards")),
      JSON.stringify(fixed.fixed),
    );
    // Made on the host's engine: its gateway and the echo forward published on its address.
    const gw = host.containers.find((c) => c.name === gatewayContainerName(homeId, "t1"));
    assert.is(gw?.state, "running");
    const fwd = readState(ctx).envs["shop/n1"]!.forwards!;
    assert.equal(
      fwd.map((x) => [x.service, x.port, x.address]),
      [["echo", 7000, ADDR]],
    );
    const fwdName = `${envDockerName(homeId, "shop", "n1")}_fwd_echo_7000`;
    assert.is(host.containers.find((c) => c.name === fwdName)?.state, "running");
    assert.not.ok(
      ctx.fake.containers.some((c) => c.name === fwdName),
      "no forward of the host's env on this machine's engine",
    );

    // Stopped forward: named with its address and port, and started again on the same port.
    host.containers.find((c) => c.name === fwdName)!.state = "exited";
    const stopped = await runDoctor(ctx);
    const s = stopped.findings.find((x) => x.id === "remote-gateway-down");
    assert.match(s!.message, `the TCP forward ${ADDR}:${fwd[0]!.host_port} -> echo:7000 is not running there`);
    assert.not.match(s!.message, "gateway cilo_");
    // Gateway removed as well: one finding for the env, naming both.
    host.containers = host.containers.filter((c) => c.name !== gatewayContainerName(homeId, "t1"));
    const both = (await runDoctor(ctx)).findings.filter((x) => x.id === "remote-gateway-down");
    assert.is(both.length, 1);
    assert.match(both[0]!.message, /does not exist, and the TCP forward .* is not running there/);
    const again = await runDoctor(ctx, { fix: true });
    assert.equal(remoteIds(again), []);
    assert.is(host.containers.find((c) => c.name === fwdName)?.state, "running");
    assert.is(readState(ctx).envs["shop/n1"]!.forwards![0]!.host_port, fwd[0]!.host_port, "the forward keeps its port");
    assert.is(host.containers.find((c) => c.name === gatewayContainerName(homeId, "t1"))?.state, "running");

    // Not judged: a stopped env, and with CILO_GATEWAY=off.
    host.containers = host.containers.filter((c) => c.labels["cilo.gateway"] !== "true");
    const off = testContext({ home, engines: { [TCP]: host }, env: { CILO_GATEWAY: "off" } });
    assert.equal(remoteIds(await runDoctor(off)), []);
    await withState(ctx, (st) => {
      st.envs["shop/n1"]!.status = "stopped";
    });
    assert.equal(remoteIds(await runDoctor(ctx)), []);
  } finally {
    removeDir(home);
  }
});

test("an env on a tcp:// host this machine does not reach (loopback address) has no remote gateway to judge", async () => {
  const { ctx, home } = await setup();
  try {
    await withState(ctx, (s) => {
      s.hosts!["t1"]!.address = "tcp://127.0.0.1:2375";
    });
    assert.equal(remoteIds(await runDoctor(ctx)), []);
  } finally {
    removeDir(home);
  }
});

test.run();
