// Process liveness as reconciliation judges it (issue 6): pid reuse and zombies do not count as alive.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { composeProcesses, isProcessAlive, processIdentity } from "../../src/core/proc/processes.ts";
import { until } from "../helpers/until.ts";

test("this process is alive, with its own start time; another start time means another process", () => {
  const me = processIdentity(process.pid);
  assert.type(me.startTicks, "number");
  assert.ok(isProcessAlive(process.pid));
  assert.ok(isProcessAlive(process.pid, { startTicks: me.startTicks! }));
  assert.not.ok(isProcessAlive(process.pid, { startTicks: me.startTicks! + 1 }));
});

test("a process that started after a marker was written is not the marker's writer", () => {
  assert.ok(isProcessAlive(process.pid, { startedBefore: Date.now() }));
  assert.not.ok(isProcessAlive(process.pid, { startedBefore: Date.now() - 24 * 3_600_000 }));
});

test("an exited process is dead; so are pids that cannot be", async () => {
  const child = spawn("true");
  await once(child, "exit");
  assert.not.ok(isProcessAlive(child.pid!));
  assert.not.ok(isProcessAlive(0));
  assert.not.ok(isProcessAlive(-1));
});

test("a zombie (killed, not yet reaped by its parent) is dead", async () => {
  // The background sleep's parent becomes the exec'd `sleep 5`, which never reaps it.
  const parent = spawn("sh", ["-c", "sleep 30 & echo $!; exec sleep 5"], { stdio: ["ignore", "pipe", "ignore"] });
  const [line] = (await once(parent.stdout!, "data")) as [Buffer];
  const pid = Number(line.toString().trim());
  assert.ok(isProcessAlive(pid));
  await until("the parent execs sleep", () => readFileSync(`/proc/${parent.pid}/cmdline`, "utf8").startsWith("sleep"), { stepMs: 10 });
  process.kill(pid, "SIGKILL");
  const state = () => readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]![0];
  await until("the killed child is a zombie", () => state() === "Z", { timeoutMs: 5_000, stepMs: 10 });
  assert.not.ok(isProcessAlive(pid));
  parent.kill("SIGKILL");
});

test("compose processes are found by their -p project name", async () => {
  const name = `cilo_unit_${process.pid}`;
  const probe = spawn(process.execPath, ["-e", "setTimeout(() => {}, 5000)", "docker-compose", "-p", name], { stdio: "ignore" });
  await until("the probe process is listed", () => composeProcesses().has(name), { timeoutMs: 5_000, stepMs: 20 });
  assert.equal(composeProcesses().get(name), [probe.pid]);
  probe.kill("SIGKILL");
  await once(probe, "exit");
  assert.is(composeProcesses().get(name), undefined);
});

test.run();
