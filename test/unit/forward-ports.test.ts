// TCP forwards (issue 12 item 4): which ports get one, host port allocation, variable names.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { serviceRecordsFromModel } from "../../src/core/env/services.ts";
import {
  allocateForwards,
  forwardEnvironment,
  forwardVariable,
  holdsForwards,
  parseForwardRange,
  tcpPorts,
  wantedForwards,
} from "../../src/core/forward/ports.ts";
import { forwardContainerName, forwardImage, forwardRange } from "../../src/core/forward/forwarder.ts";
import { emptyState, type ForwardRecord } from "../../src/core/state/schema.ts";
import { validateState } from "../../src/core/state/validate.ts";
import { parseInitOptions } from "../../src/cli/commands/init.ts";

const range = { first: 15000, last: 15004 };
const A = "127.0.0.1";
const fw = (service: string, port: number, host_port: number): ForwardRecord => ({ service, port, address: A, host_port });

test("parseForwardRange: first-last within 1..65535, first <= last", () => {
  assert.equal(parseForwardRange("15000-15999"), { first: 15000, last: 15999 });
  assert.equal(parseForwardRange(" 20000 - 20000 "), { first: 20000, last: 20000 });
  for (const bad of ["", "15000", "15999-15000", "0-10", "1-65536", "a-b", "1-2-3"]) assert.is(parseForwardRange(bad), undefined, bad);
});

test("tcpPorts: well-known ports without a label; the cilo.tcp label decides when set", () => {
  assert.equal(tcpPorts("db", undefined, [5432, 8080]), [5432]);
  assert.equal(tcpPorts("web", undefined, [80, 3000]), []);
  assert.equal(tcpPorts("x", "true", [7000, 7001]), [7000, 7001]);
  assert.equal(tcpPorts("x", "ALL", [7000]), [7000]);
  assert.equal(tcpPorts("db", "false", [5432]), []);
  assert.equal(tcpPorts("db", "none", [5432]), []);
  assert.equal(tcpPorts("echo", "7000, 7001,7000", []), [7000, 7001], "a list need not be exposed; sorted, unique");
  assert.equal(tcpPorts("db", "0", [5432]), []);
  for (const bad of ["7000,", "seven", "70000", "-1"]) {
    try {
      tcpPorts("echo", bad, []);
      assert.unreachable(bad);
    } catch (e) {
      assert.is((e as { code?: string }).code, "E_COMPOSE_INVALID", bad);
      assert.is((e as { exitCode?: number }).exitCode, 2);
    }
  }
});

test("serviceRecordsFromModel records tcp ports from labels and well-known exposed ports", () => {
  const model = {
    services: {
      db: { image: "postgres", expose: ["5432"] },
      echo: { image: "busybox", labels: { "cilo.tcp": "7000" } },
      web: { image: "busybox", ports: ["8080:80"] },
    },
  };
  const recs = serviceRecordsFromModel(model, {});
  assert.equal(
    recs.map((r) => [r.name, r.tcp]),
    [
      ["db", [5432]],
      ["echo", [7000]],
      ["web", undefined],
    ],
  );
  assert.equal(wantedForwards({ services: [...recs, { name: "cache", shared: true, tcp: [6379] }] }), [
    { service: "db", port: 5432 },
    { service: "echo", port: 7000 },
  ]);
});

test("allocateForwards: lowest free ports of the range, never another env's", () => {
  const wanted = [
    { service: "db", port: 5432 },
    { service: "echo", port: 7000 },
  ];
  assert.equal(allocateForwards({ range, wanted, address: A, taken: [] }), [fw("db", 5432, 15000), fw("echo", 7000, 15001)]);
  assert.equal(allocateForwards({ range, wanted, address: A, taken: [15000, 15002] }), [fw("db", 5432, 15001), fw("echo", 7000, 15003)]);
});

test("allocateForwards: re-up keeps each previous port when free, else takes a new one", () => {
  const wanted = [
    { service: "db", port: 5432 },
    { service: "echo", port: 7000 },
  ];
  const previous = [fw("db", 5432, 15003), fw("echo", 7000, 15001)];
  assert.equal(allocateForwards({ range, wanted, address: A, previous, taken: [] }), previous);
  // Another env took 15003 while this one was down: db moves, echo keeps its port.
  assert.equal(allocateForwards({ range, wanted, address: A, previous, taken: [15003] }), [fw("db", 5432, 15000), fw("echo", 7000, 15001)]);
  // A previous port outside a narrowed range, or held by another program, is not kept.
  assert.equal(allocateForwards({ range: { first: 15002, last: 15004 }, wanted, address: A, previous, taken: [] }), [
    fw("db", 5432, 15003),
    fw("echo", 7000, 15002),
  ]);
  assert.equal(allocateForwards({ range, wanted, address: A, previous, taken: [], excluded: [15001] }), [fw("db", 5432, 15003), fw("echo", 7000, 15000)]);
  // A forward no longer wanted is dropped; the address follows the engine.
  assert.equal(allocateForwards({ range, wanted: [wanted[1]!], address: "10.213.77.2", previous, taken: [] }), [
    { service: "echo", port: 7000, address: "10.213.77.2", host_port: 15001 },
  ]);
});

test("allocateForwards: ports stopped envs remember are given out last; a full range is E_FORWARD_RANGE_FULL", () => {
  const wanted = [{ service: "db", port: 5432 }];
  assert.equal(allocateForwards({ range, wanted, address: A, taken: [], remembered: [15000, 15001] }), [fw("db", 5432, 15002)]);
  assert.equal(allocateForwards({ range, wanted, address: A, taken: [15002, 15003, 15004], remembered: [15000, 15001] }), [fw("db", 5432, 15000)]);
  try {
    allocateForwards({ range, wanted: [...wanted, { service: "db", port: 5433 }], address: A, taken: [15000, 15001, 15002], excluded: [15003] });
    assert.unreachable();
  } catch (e) {
    assert.is((e as { code?: string }).code, "E_FORWARD_RANGE_FULL");
    assert.match(String((e as Error).message), /15000-15004/);
  }
});

test("allocateForwards: many envs one after another never share a port", () => {
  const big = { first: 20000, last: 20099 };
  const held: number[] = [];
  for (let i = 0; i < 20; i++) {
    const got = allocateForwards({
      range: big,
      wanted: [
        { service: "db", port: 5432 },
        { service: "cache", port: 6379 },
      ],
      address: A,
      taken: held,
    });
    held.push(...got.map((f) => f.host_port));
  }
  assert.is(new Set(held).size, 40);
});

test("holdsForwards: every status but stopped and created", () => {
  assert.ok(holdsForwards({ status: "running" }));
  assert.ok(holdsForwards({ status: "failed" }));
  assert.ok(holdsForwards({ status: "starting" }));
  assert.not.ok(holdsForwards({ status: "stopped" }));
  assert.not.ok(holdsForwards({ status: "created" }));
});

test("forwardVariable and forwardEnvironment: CILO_ADDR_<SERVICE>_<PORT>, only for a running env", () => {
  assert.is(forwardVariable("db", 5432), "CILO_ADDR_DB_5432");
  assert.is(forwardVariable("my-cache.v2", 6379), "CILO_ADDR_MY_CACHE_V2_6379");
  assert.is(forwardVariable("Tcp_echo", 7000), "CILO_ADDR_TCP_ECHO_7000");
  const forwards = [fw("my-db", 5432, 15000), fw("my_db", 5432, 15001), fw("echo", 7000, 15002)];
  assert.equal(forwardEnvironment({ status: "running", forwards }), { CILO_ADDR_MY_DB_5432: "127.0.0.1:15000", CILO_ADDR_ECHO_7000: "127.0.0.1:15002" });
  assert.equal(forwardEnvironment({ status: "stopped", forwards }), {});
  assert.equal(forwardEnvironment({ status: "running" }), {});
});

test("forward settings: init --forward-ports, state validation, image, container name", () => {
  assert.equal(parseInitOptions({ forwardPorts: "16000-16099" }), { forward_ports: "16000-16099" });
  assert.throws(() => parseInitOptions({ forwardPorts: "16099-16000" }), /not a port range/);
  const s = emptyState("abcdef123456");
  assert.equal(forwardRange(s), { first: 15000, last: 15999 });
  s.config.forward_ports = "16000-16009";
  assert.equal(forwardRange(s), { first: 16000, last: 16009 });
  assert.equal(validateState(s), []);
  s.config.forward_ports = "nope";
  assert.ok(validateState(s).some((p) => p.includes("forward_ports")));
  s.config.forward_ports = "16000-16009";
  s.envs["p/e"] = {
    project: "p",
    name: "e",
    docker_name: "cilo_abcdef123456_p_e",
    status: "running",
    subnet: "10.224.0.0/24",
    workspace: "/h/envs/p/e",
    created_at: "2030-01-01T00:00:00.000Z",
    updated_at: "2030-01-01T00:00:00.000Z",
    services: [{ name: "db", tcp: [5432] }],
    forwards: [fw("db", 5432, 16000)],
  };
  assert.equal(validateState(s), []);
  s.envs["p/e"]!.forwards = [fw("db; rm -rf /", 5432, 16000)];
  assert.ok(validateState(s).some((p) => p.includes("forward")));
  s.envs["p/e"]!.forwards = [{ ...fw("db", 5432, 16000), address: "localhost" }];
  assert.ok(validateState(s).some((p) => p.includes("forward")));
  assert.is(forwardImage({}), "busybox:1.36");
  assert.is(forwardImage({ CILO_FORWARD_IMAGE: "cilo-test/busybox:latest" }), "cilo-test/busybox:latest");
  assert.throws(() => forwardImage({ CILO_FORWARD_IMAGE: "not an image" }), /image reference/);
  assert.is(forwardContainerName({ docker_name: "cilo_h_p_e" }, { service: "db", port: 5432 }), "cilo_h_p_e_fwd_db_5432");
});

test.run();
