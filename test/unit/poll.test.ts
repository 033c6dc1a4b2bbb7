// The one polling loop (src/core/poll.ts), the one "last log lines" helper, and waitForServices
// on that loop, over a fake provider (no Docker).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CiloError } from "../../src/core/errors.ts";
import { pollUntil, type Readiness } from "../../src/core/poll.ts";
import { lastLines, lastLogLines } from "../../src/core/runtime/last-log-lines.ts";
import type { ContainerState, RuntimeProvider } from "../../src/core/runtime/provider.ts";
import { waitForServices } from "../../src/core/runtime/wait-services.ts";
import { rejection } from "../helpers/rejection.ts";

const notYet = (why: string): Readiness => ({ ready: false, why, fatal: false });

test("pollUntil: checks at once, then once per interval, until ready", async () => {
  let calls = 0;
  await pollUntil(async () => (++calls === 3 ? { ready: true } : notYet("no")), { deadline: Date.now() + 5_000, intervalMs: 5 });
  assert.is(calls, 3);
});

test("pollUntil: a fatal check ends it at once with the caller's error", async () => {
  let calls = 0;
  const e = await rejection(
    pollUntil(
      async () => {
        calls++;
        return { ready: false, why: "crashed", fatal: true };
      },
      { deadline: Date.now() + 5_000, intervalMs: 5, failed: (why) => new CiloError("E_WAIT_FAILED", `x: ${why}`) },
    ),
  );
  assert.is(calls, 1);
  assert.is((e as CiloError).code, "E_WAIT_FAILED");
  assert.is(e.message, "x: crashed");
});

test("pollUntil: past the deadline, the timeout error names the last reason given", async () => {
  let calls = 0;
  // The deadline passes at the third check whatever the machine's load (a 60 ms deadline once
  // allowed only two checks on a loaded machine): pollUntil reads it after every check.
  const opts = { deadline: Date.now() + 60_000, intervalMs: 1, timedOut: (last: string) => new CiloError("E_WAIT_TIMEOUT", `last: ${last}`) };
  const e = await rejection(
    pollUntil(async () => {
      if (++calls === 3) opts.deadline = 0;
      return notYet(calls === 1 ? "first" : "");
    }, opts),
  );
  assert.is((e as CiloError).code, "E_WAIT_TIMEOUT");
  assert.is(e.message, "last: first", "an empty reason keeps the one before");
  assert.is(calls, 3);
});

test("pollUntil: an abort during a long pause ends the wait at once, with the interrupted error or the reason", async () => {
  for (const interrupted of [undefined, () => new CiloError("E_INTERRUPTED", "Waiting was interrupted")]) {
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(new Error("the reason")), 50);
    const e = await rejection(
      pollUntil(async () => notYet("no"), { deadline: Date.now() + 60_000, intervalMs: 30_000, signal: ac.signal, ...(interrupted ? { interrupted } : {}) }),
    );
    assert.ok(Date.now() - t0 < 5_000, `took ${Date.now() - t0} ms`);
    assert.is(e.message, interrupted ? "Waiting was interrupted" : "the reason");
  }
});

test("pollUntil: an error the check throws ends the wait with that error", async () => {
  const e = await rejection(
    pollUntil(
      async () => {
        throw new Error("engine gone");
      },
      { deadline: Date.now() + 5_000, intervalMs: 5 },
    ),
  );
  assert.is(e.message, "engine gone");
});

test("pollUntil: with backoff the pauses grow by the factor up to the limit", async () => {
  const at: number[] = [];
  await pollUntil(
    async () => {
      at.push(Date.now());
      return at.length === 5 ? { ready: true } : notYet("no");
    },
    { deadline: Date.now() + 10_000, intervalMs: 20, backoff: 2, maxIntervalMs: 80 },
  );
  const pauses = at.slice(1).map((t, i) => t - at[i]!);
  // 20, 40, 80, 80 (timers fire late, never early)
  for (const [i, want] of [20, 40, 80, 80].entries()) assert.ok(pauses[i]! >= want - 2 && pauses[i]! < want + 60, `pauses ${pauses.join(", ")}`);
});

test("lastLines / lastLogLines: the last n lines, indented, or nothing", async () => {
  assert.equal(lastLines("a\nb\nc\n\n", 2), ["b", "c"]);
  assert.equal(lastLines("a\nb", 10), ["a", "b"]);
  assert.equal(lastLines(" \n", 10), []);
  assert.equal(lastLines("a\nb", 0), []);
  const provider = fakeProvider([], { logs: "one\ntwo\nthree\n" });
  assert.is(await lastLogLines(provider, "c1", 2), "; last log lines:\n  two\n  three");
  assert.is(await lastLogLines(fakeProvider([], { logs: "" }), "c1"), "");
  assert.is(await lastLogLines(fakeProvider([], { logsFail: true }), "c1"), "");
});

test("waitForServices: ready when every service runs; a crash fails at once with its last log lines and a hint", async () => {
  const labels = { "cilo.project": "p", "cilo.env": "e" };
  await waitForServices(fakeProvider([container("web", { state: "running" })]), { labels, timeoutMs: 5_000, intervalMs: 5 });
  const e = (await rejection(
    waitForServices(fakeProvider([container("web", { state: "running" }), container("db", { state: "exited", exitCode: 3 })], { logs: "boom\n" }), {
      labels,
      timeoutMs: 60_000,
      intervalMs: 5,
    }),
  )) as CiloError;
  assert.is(e.code, "E_SERVICE_FAILED");
  assert.is(e.message, 'Service "db" exited with code 3; last log lines:\n  boom');
  assert.is(e.hint, "See all of its output with: cilo logs p/e db");
});

test("waitForServices: the timeout names what is still pending", async () => {
  const e = (await rejection(
    waitForServices(fakeProvider([container("db", { state: "running", health: "starting" })]), {
      labels: {},
      services: ["db", "web"],
      timeoutMs: 50,
      intervalMs: 10,
    }),
  )) as CiloError;
  assert.is(e.code, "E_WAIT_TIMEOUT");
  assert.is(e.message, "Services not ready after 0 s: db: starting (health); web: no container yet");
});

test("waitForServices: onWaiting hears each service not ready and why, only when that changes", async () => {
  let checks = 0;
  const states: ContainerState[][] = [
    [],
    [container("db", { state: "created" })],
    [container("db", { state: "running", health: "starting" })],
    [container("db", { state: "running", health: "starting" })],
    [container("db", { state: "running", health: "healthy" }), container("web", { state: "running" })],
  ];
  const provider = fakeProvider([]);
  provider.listContainers = async () => states[Math.min(checks++, states.length - 1)]!;
  provider.inspectContainer = async () => undefined;
  const heard: string[] = [];
  await waitForServices(provider, {
    labels: {},
    services: ["db", "web"],
    timeoutMs: 5_000,
    intervalMs: 1,
    onWaiting: (pending) => heard.push(pending.map((p) => `${p.service}: ${p.why}`).join("; ")),
  });
  assert.equal(heard, [
    "db: no container yet; web: no container yet",
    "db: created; web: no container yet",
    "db: starting (health); web: no container yet",
    "",
  ]);
});

test("waitForServices: an interrupt during the pause between checks ends the wait at once (E_INTERRUPTED, 130)", async () => {
  const ac = new AbortController();
  const t0 = Date.now();
  setTimeout(() => ac.abort(), 50);
  const e = (await rejection(waitForServices(fakeProvider([]), { labels: {}, timeoutMs: 60_000, intervalMs: 20_000, signal: ac.signal }))) as CiloError;
  assert.ok(Date.now() - t0 < 5_000, `took ${Date.now() - t0} ms`);
  assert.is(e.code, "E_INTERRUPTED");
  assert.is(e.exitCode, 130);
});

function container(service: string, s: Partial<ContainerState>): ContainerState {
  return { id: `id-${service}`, name: service, labels: { "cilo.service": service }, state: "created", ips: {}, ...s };
}

function fakeProvider(containers: ContainerState[], opts: { logs?: string; logsFail?: boolean } = {}): RuntimeProvider {
  const unused = () => Promise.reject(new Error("not used by these tests"));
  return {
    name: "fake",
    ping: unused,
    listContainers: async () => containers,
    inspectContainer: async (id) => containers.find((c) => c.id === id),
    listNetworks: unused,
    listVolumes: unused,
    removeContainer: unused,
    removeNetwork: unused,
    removeVolume: unused,
    disconnectNetwork: unused,
    hasImage: unused,
    pullImage: unused,
    createContainer: unused,
    startContainer: unused,
    connectNetwork: unused,
    exec: unused,
    putFile: unused,
    inspectVolume: unused,
    createVolume: unused,
    pauseContainer: unused,
    unpauseContainer: unused,
    stopContainer: unused,
    archiveOut: unused,
    archiveIn: unused,
    logs: async (_id, tail) =>
      opts.logsFail
        ? Promise.reject(new Error("no logs"))
        : (opts.logs ?? "")
            .split("\n")
            .slice(-tail - 1)
            .join("\n"),
  };
}

test.run();
