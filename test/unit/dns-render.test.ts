// DNS rendering (SPEC §5): deterministic output, collisions refused, wildcards only for ingress.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { dnsEnvsFromState } from "../../src/core/dns/from-state.ts";
import { type DnsEnv, planDns, renderMainConfig, renderServersFile, renderWildcardConfig } from "../../src/core/dns/render.ts";
import { CiloError } from "../../src/core/errors.ts";
import { emptyState, type EnvRecord } from "../../src/core/state/schema.ts";

const shop: DnsEnv = {
  project: "shop",
  env: "x",
  suffix: "test",
  services: [{ name: "web", ip: "10.224.0.3", ingress: true, hostnames: ["admin", "admin.shop"] }, { name: "api", ip: "10.224.0.2" }, { name: "db" }],
};
const blog: DnsEnv = { project: "blog", env: "y", suffix: "test", services: [{ name: "api", ip: "10.224.1.2" }] };
const dev: DnsEnv = { project: "cms", env: "y", suffix: ".Dev.", services: [{ name: "app", ip: "10.224.2.2", ingress: true }] };

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function render(envs: DnsEnv[]): string {
  const plan = planDns(envs);
  const config = renderMainConfig({
    port: 5354,
    dir: "/h/dns/hosts",
    upstreams: ["10.0.0.1"],
    suffixes: envs.map((e) => e.suffix),
    serversFile: "/h/dns/wildcards.servers",
    pidFile: "/h/dns/dnsmasq.pid",
  });
  const wildcards = renderWildcardConfig({ port: 5355, pidFile: "/h/dns/w.pid", wildcards: plan.wildcards });
  return JSON.stringify({ config, wildcards, servers: renderServersFile(plan.wildcards, 5355), hosts: Object.entries(plan.hostsFiles) });
}

function collisionOf(envs: DnsEnv[]): CiloError {
  try {
    planDns(envs);
  } catch (e) {
    assert.instance(e, CiloError);
    return e as CiloError;
  }
  throw new Error("no collision was reported");
}

test("plans exact names per env, apex and wildcard only for the ingress service", () => {
  const plan = planDns([shop, blog]);
  assert.equal(Object.keys(plan.hostsFiles), ["blog.y.hosts", "shop.x.hosts"]);
  assert.is(
    plan.hostsFiles["shop.x.hosts"],
    "# cilo: shop/x (rendered from state; cilo rewrites it)\n" +
      "10.224.0.3 admin.shop.x.test\n10.224.0.3 admin.x.test\n10.224.0.2 api.x.test\n10.224.0.3 web.x.test\n",
  );
  assert.is(plan.hostsFiles["blog.y.hosts"], "# cilo: blog/y (rendered from state; cilo rewrites it)\n10.224.1.2 api.y.test\n");
  assert.is(plan.wildcards, "address=/shop.x.test/10.224.0.3\n");
  assert.is(plan.names, 5);
  assert.not.match(JSON.stringify(plan), /db\.x/, "a service without an IP is not served");
});

test("suffixes are normalised and each gets local=/…/ so unknown names there are NXDOMAIN", () => {
  const plan = planDns([dev, shop]);
  assert.match(plan.hostsFiles["cms.y.hosts"]!, /^10\.224\.2\.2 app\.y\.dev$/m);
  assert.is(plan.wildcards, "address=/cms.y.dev/10.224.2.2\naddress=/shop.x.test/10.224.0.3\n");
  const config = renderMainConfig({
    port: 5400,
    dir: "/d/hosts",
    upstreams: ["10.0.0.1", "127.0.0.1#5300", "10.0.0.1"],
    suffixes: ["test", ".Dev", "test"],
    serversFile: "/d/wildcards.servers",
    pidFile: "/d/p",
  });
  assert.is(
    config,
    [
      "# cilo's dnsmasq, rendered from state (cilo rewrites it)",
      "port=5400",
      "listen-address=127.0.0.1",
      "bind-interfaces",
      "no-resolv",
      "no-hosts",
      "domain-needed",
      "pid-file=/d/p",
      "hostsdir=/d/hosts",
      "local=/dev/",
      "local=/test/",
      "server=10.0.0.1",
      "server=127.0.0.1#5300",
      "servers-file=/d/wildcards.servers",
      "",
    ].join("\n"),
  );
  // The wildcards live in a wildcard instance the front forwards their domains to (no restart on change).
  assert.is(
    renderWildcardConfig({ port: 5401, pidFile: "/d/w.pid", wildcards: plan.wildcards }),
    [
      "# cilo's wildcard dnsmasq, rendered from state (cilo rewrites it)",
      "port=5401",
      "listen-address=127.0.0.1",
      "bind-interfaces",
      "no-resolv",
      "no-hosts",
      "pid-file=/d/w.pid",
      "address=/cms.y.dev/10.224.2.2",
      "address=/shop.x.test/10.224.0.3",
      "address=/cilo-switch-5401.invalid/127.0.0.1",
      "",
    ].join("\n"),
  );
  assert.is(
    renderServersFile(plan.wildcards, 5401),
    "server=/cms.y.dev/127.0.0.1#5401\nserver=/shop.x.test/127.0.0.1#5401\nserver=/cilo-switch-5401.invalid/127.0.0.1#5401\n",
  );
  assert.is(renderServersFile("", 5401), "");
});

test("byte-identical output for the same input in any insertion order", () => {
  const many: DnsEnv[] = [];
  for (let i = 0; i < 40; i++) {
    many.push({
      project: `p${i % 7}`,
      env: `e${i}`,
      suffix: i % 3 === 0 ? "dev" : "test",
      services: ["web", "api", "db", "cache"].map((name, k) => ({
        name,
        ip: `10.230.${i}.${k + 2}`,
        ...(name === "web" ? { ingress: true, hostnames: ["www", "admin"] } : {}),
      })),
    });
  }
  const expected = render(many);
  for (let seed = 1; seed <= 20; seed++) {
    const variant = shuffled(many, seed).map((e) => ({
      ...e,
      services: shuffled(e.services, seed + 100).map((s) => ({ ...s, ...(s.hostnames ? { hostnames: shuffled(s.hostnames, seed) } : {}) })),
    }));
    assert.is(render(variant), expected, `seed ${seed}`);
  }
});

test("a name answering two IPs is refused, naming both envs, whatever the order", () => {
  const a: DnsEnv = { project: "shop", env: "x", suffix: "test", services: [{ name: "api", ip: "10.224.0.2" }] };
  const b: DnsEnv = { project: "blog", env: "x", suffix: "test", services: [{ name: "api", ip: "10.224.1.2" }] };
  for (const envs of [
    [a, b],
    [b, a],
  ]) {
    const e = collisionOf(envs);
    assert.is(e.code, "E_DNS_COLLISION");
    assert.is(e.exitCode, 2);
    assert.is(e.message, `"api.x.test" would answer 10.224.1.2 for blog/x and 10.224.0.2 for shop/x`);
  }
});

test("collisions of custom hostnames, apexes and within one env are refused too", () => {
  const hostname = collisionOf([
    { project: "shop", env: "x", suffix: "test", services: [{ name: "web", ip: "10.1.0.2" }] },
    { project: "blog", env: "x", suffix: "test", services: [{ name: "api", ip: "10.1.1.2", hostnames: ["web"] }] },
  ]);
  assert.match(hostname.message, /"web\.x\.test" would answer .* for blog\/x and .* for shop\/x/);

  const inside = collisionOf([
    {
      project: "shop",
      env: "x",
      suffix: "test",
      services: [
        { name: "web", ip: "10.1.0.2" },
        { name: "api", ip: "10.1.0.3", hostnames: ["web"] },
      ],
    },
  ]);
  assert.match(inside.message, /"web\.x\.test" would answer 10\.1\.0\.3 for shop\/x \(service api\) and 10\.1\.0\.2 for shop\/x \(service web\)/);

  const apex = collisionOf([
    {
      project: "shop",
      env: "x",
      suffix: "test",
      services: [
        { name: "web", ip: "10.1.0.2", ingress: true },
        { name: "shop", ip: "10.1.0.3" },
      ],
    },
  ]);
  assert.match(apex.message, /"shop\.x\.test" would answer/);

  // Same name, same IP (a hostname repeating the service name) is not a collision.
  const same = planDns([{ project: "shop", env: "x", suffix: "test", services: [{ name: "shop", ip: "10.1.0.2", ingress: true, hostnames: ["shop"] }] }]);
  assert.is(same.names, 1);
});

test("an exact name under another env's wildcard is not a collision (hosts entries win in dnsmasq)", () => {
  const plan = planDns([
    { project: "foo", env: "dev", suffix: "test", services: [{ name: "web", ip: "10.1.0.2", ingress: true }] },
    { project: "bar", env: "foo", suffix: "dev.test", services: [{ name: "api", ip: "10.1.1.2" }] },
  ]);
  assert.match(plan.hostsFiles["bar.foo.hosts"]!, /10\.1\.1\.2 api\.foo\.dev\.test/);
  assert.is(plan.wildcards, "address=/foo.dev.test/10.1.0.2\n");
});

test("invalid names and addresses are refused with exit 2", () => {
  const cases: [DnsEnv["services"], string][] = [
    [[{ name: "api", ip: "10.1.0.2", hostnames: ["bad name"] }], "E_DNS_INVALID_NAME"],
    [[{ name: "api", ip: "10.1.0.2", hostnames: ["-x"] }], "E_DNS_INVALID_NAME"],
    [[{ name: "api", ip: "10.1.0.2", hostnames: ["a".repeat(64)] }], "E_DNS_INVALID_NAME"],
    [[{ name: "api", ip: "10.1.0.300" }], "E_DNS_INVALID_IP"],
  ];
  for (const [services, code] of cases) {
    try {
      planDns([{ project: "shop", env: "x", suffix: "test", services }]);
      assert.unreachable(JSON.stringify(services));
    } catch (e) {
      assert.instance(e, CiloError);
      assert.is((e as CiloError).code, code);
      assert.is((e as CiloError).exitCode, 2);
    }
  }
  assert.throws(() => planDns([{ project: "../x", env: "x", suffix: "test", services: [] }]), /not a valid project\/env name/);
  // Underscores are legal in dnsmasq hosts files; upper case is folded.
  assert.match(
    planDns([{ project: "p", env: "x", suffix: "test", services: [{ name: "My_Svc", ip: "fd00::2" }] }]).hostsFiles["p.x.hosts"]!,
    /^fd00::2 my_svc\.x\.test$/m,
  );
});

test("state → DnsEnv: running envs only, services with an IP, merged custom hostnames, env suffix", () => {
  const state = emptyState("testhome");
  const base = { subnet: "10.224.0.0/24", workspace: "/w", created_at: "t", updated_at: "t" };
  const running: EnvRecord = {
    ...base,
    project: "shop",
    name: "x",
    docker_name: "cilo_shop_x",
    status: "running",
    services: [{ name: "web", ip: "10.224.0.3", ingress: true, hostnames: ["www"] }, { name: "api", ip: "10.224.0.2" }, { name: "worker" }],
    hostnames: { web: ["admin", "www"], api: ["backend"], gone: ["ghost"] },
    dns_suffix: "dev",
  };
  const stopped: EnvRecord = {
    ...base,
    project: "shop",
    name: "old",
    docker_name: "cilo_shop_old",
    status: "stopped",
    services: [{ name: "web", ip: "10.224.1.3" }],
  };
  state.envs = { "shop/x": running, "shop/old": stopped };
  assert.equal(dnsEnvsFromState(state), [
    {
      project: "shop",
      env: "x",
      suffix: "dev",
      services: [
        { name: "web", ip: "10.224.0.3", hostnames: ["www", "admin"], ingress: true },
        { name: "api", ip: "10.224.0.2", hostnames: ["backend"] },
      ],
    },
  ]);
  delete running.dns_suffix;
  assert.is(dnsEnvsFromState(state)[0]!.suffix, "test");
});

test.run();
