// cilo mcp's parts without Docker (issue 15): the tool schemas and input checks, the session's
// lease rule, env addresses, lease/TTL in list, gc of expired envs, TTL parsing.
import { join } from "node:path";
import { Ajv } from "ajv";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseTtl } from "../../src/core/duration.ts";
import { envAddresses } from "../../src/core/env/env-addresses.ts";
import type { EnvView as EnvStatusView } from "../../src/core/env/views.ts";
import { leaseText } from "../../src/core/env/env-summary.ts";
import { idleEnvs } from "../../src/core/env/gc-envs.ts";
import { isCiloError } from "../../src/core/errors.ts";
import { envDockerName } from "../../src/core/labels.ts";
import { emptyState, type EnvRecord } from "../../src/core/state/schema.ts";
import { initState, withState } from "../../src/core/state/store.ts";
import { inputValidators, loadToolSchemas, TOOL_NAMES } from "../../src/mcp/schemas.ts";
import { McpSession } from "../../src/mcp/session.ts";
import { TOOLS } from "../../src/mcp/tools.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";
import { testContext } from "../helpers/context.ts";

const NOW = Date.parse("2030-06-30T12:00:00Z");

function rec(name: string, extra: Partial<EnvRecord> = {}): EnvRecord {
  return {
    project: "p",
    name,
    docker_name: `cilo_h_p_${name}`,
    status: "running",
    subnet: "10.224.1.0/24",
    workspace: `/w/${name}`,
    created_at: new Date(NOW - 3_600_000).toISOString(),
    updated_at: new Date(NOW).toISOString(),
    services: [],
    ...extra,
  };
}

test("every tool has an input and a result schema; the result schemas embed the env object of cilo status --json", () => {
  const tools = loadToolSchemas();
  assert.equal(
    tools.map((t) => t.name),
    [...TOOL_NAMES],
  );
  const ajv = new Ajv({ strict: false });
  for (const t of tools) {
    assert.is(t.inputSchema.type, "object", t.name);
    assert.is(t.outputSchema.type, "object", t.name);
    assert.ok(t.description.length > 20, t.name);
    ajv.compile(t.outputSchema);
  }
  const status = tools.find((t) => t.name === "env_status")!.outputSchema as any;
  assert.ok(status.$defs.env.required.includes("base_url"), "the env object is the env schema");
});

test("tool arguments are checked against the input schema: one usage error naming every problem", () => {
  const check = inputValidators(loadToolSchemas());
  check("env_run", { env: "a", command: "true" });
  try {
    check("env_run", { env: 3, extra: true });
    assert.unreachable();
  } catch (e) {
    assert.ok(isCiloError(e) && e.exitCode === 2);
    assert.match((e as Error).message, /Invalid arguments for env_run: .*command.*\/env must be string/);
  }
  assert.throws(() => check("workflow_run", {}), /must match exactly one schema|required property/);
  assert.throws(() => check("env_create", { ttl: "soon" }), /ttl must match pattern/);
});

test("a session reaches only the envs it created, unless --all-envs; a bare name is one of its own first", async () => {
  const dir = tempDir();
  try {
    const ctx = testContext({ home: join(dir, "home"), cwd: dir });
    await initState(ctx, {});
    await withState(ctx, (s) => {
      const named = (r: EnvRecord, subnet: number) => ({ ...r, docker_name: envDockerName(s.home_id, r.project, r.name), subnet: `10.224.${subnet}.0/24` });
      s.envs["p/a"] = named(rec("a"), 1);
      s.envs["q/a"] = named({ ...rec("a"), project: "q" }, 2);
      s.envs["p/other"] = named(rec("other"), 3);
    });
    const session = new McpSession(ctx, false);
    session.adopt({ ...rec("a"), project: "q" });
    assert.is((await session.resolve("a")).project, "q", "the session's own a, not p/a");
    for (const ref of ["p/a", "other"]) {
      try {
        await session.resolve(ref);
        assert.unreachable(ref);
      } catch (e) {
        assert.ok(isCiloError(e) && e.code === "E_NOT_LEASED", String(e));
        assert.match(e.hint ?? "", /--all-envs/);
      }
    }
    const listed = (await TOOLS.env_list(session, {}, { signal: new AbortController().signal, progress: () => {} })).envs as { project: string }[];
    assert.equal(
      listed.map((e) => e.project),
      ["q"],
    );
    assert.is((await new McpSession(ctx, true).resolve("p/other")).name, "other");
  } finally {
    removeDir(dir);
  }
});

test("env_up's addresses: gateway URLs, the DNS name and the IP with the HTTP port, TCP by IP and by forward", () => {
  const r = rec("a", {
    services: [
      { name: "api", port: 8080 },
      { name: "web", hostnames: [] },
      { name: "db", tcp: [5432] },
    ],
  });
  const svc = (name: string, ip: string, dns: string[], urls: string[] = []) => ({
    name,
    state: "running",
    health: null,
    ip,
    dns,
    urls,
    sharing: "isolated" as const,
  });
  const view = {
    services: [
      svc("api", "10.224.1.2", ["api.a.test"], ["http://api.a.p.localhost/"]),
      svc("web", "10.224.1.3", ["web.a.test", "*.p.a.test"]),
      svc("db", "10.224.1.4", ["db.a.test"]),
    ],
    forwards: [{ service: "db", port: 5432, address: "127.0.0.1", host_port: 15001, variable: "CILO_ADDR_DB_5432" }],
  } as unknown as EnvStatusView;
  const { urls, tcp } = envAddresses(view, r);
  assert.equal(urls, [
    { service: "api", url: "http://api.a.p.localhost/", via: "gateway" },
    { service: "api", url: "http://api.a.test:8080", via: "dns" },
    { service: "api", url: "http://10.224.1.2:8080", via: "ip" },
    { service: "web", url: "http://web.a.test", via: "dns" },
    { service: "web", url: "http://10.224.1.3", via: "ip" },
  ]);
  assert.equal(tcp, [
    { service: "db", port: 5432, address: "10.224.1.4:5432", via: "ip" },
    { service: "db", port: 5432, address: "127.0.0.1:15001", via: "forward" },
  ]);
  // An env on a host: its container IPs and .test names are the host's; only the gateway URLs and forwards reach it.
  const remote = envAddresses(view, { ...r, host: "r1" });
  assert.equal(remote.urls, [{ service: "api", url: "http://api.a.p.localhost/", via: "gateway" }]);
  assert.equal(remote.tcp, [{ service: "db", port: 5432, address: "127.0.0.1:15001", via: "forward" }]);
});

test("list shows the lease and the TTL left", () => {
  const leased = rec("a", { owner_pid: 4242, lease: "mcp", expires_at: new Date(NOW + 90 * 60_000).toISOString() });
  assert.is(leaseText(leased, NOW), "mcp 4242, ttl 1h30m");
  assert.is(leaseText(rec("b", { owner_pid: 7 }), NOW), "pid 7");
  assert.is(leaseText(rec("c", { expires_at: new Date(NOW - 1).toISOString() }), NOW), "ttl expired");
  assert.is(leaseText(rec("d"), NOW), "-");
});

test("gc takes envs whose TTL ran out whatever their idle time, and says why", () => {
  const s = emptyState("h");
  s.envs["p/fresh-expired"] = rec("fresh-expired", { last_used_at: new Date(NOW - 1000).toISOString(), expires_at: new Date(NOW - 1).toISOString() });
  s.envs["p/fresh"] = rec("fresh", { last_used_at: new Date(NOW - 1000).toISOString(), expires_at: new Date(NOW + 60_000).toISOString() });
  s.envs["p/idle"] = rec("idle", { last_used_at: new Date(NOW - 4 * 3_600_000).toISOString() });
  const picked = idleEnvs(s, 3 * 3_600_000, NOW);
  assert.equal(
    picked.map((e) => [e.env.name, e.why]),
    [
      ["idle", "idle"],
      ["fresh-expired", "expired"],
    ],
  );
});

test("--ttl takes a duration with a unit, more than zero", () => {
  assert.is(parseTtl("2h"), 7_200_000);
  assert.is(parseTtl("1h30m"), 5_400_000);
  for (const bad of ["2", "0s", "soon", ""]) assert.throws(() => parseTtl(bad), /--ttl ".*" is not a duration/);
});

test.run();
