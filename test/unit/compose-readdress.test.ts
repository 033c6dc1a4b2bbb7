// Networks that fix an IPv4 subnet in ipam get one of the env's own (re-addressing in the transform),
// and state records, validates and counts those subnets.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fixedSubnetNetworks } from "../../src/core/compose/readdress-networks.ts";
import { transformCompose } from "../../src/core/compose/transform.ts";
import { CiloError } from "../../src/core/errors.ts";
import { allocateSubnet } from "../../src/core/network/subnet-pool.ts";
import { stateSubnets } from "../../src/core/network/used-subnets.ts";
import { emptyState, type EnvRecord } from "../../src/core/state/schema.ts";
import { validateState } from "../../src/core/state/validate.ts";

type Mapping = Record<string, any>;

const model = (): Mapping => ({
  services: {
    api: { image: "x", networks: { back: { ipv4_address: "172.28.5.10", aliases: ["rest"] }, default: null } },
    db: { image: "x", networks: { back: null } },
    web: { image: "x" },
  },
  networks: {
    back: {
      driver: "bridge",
      ipam: {
        driver: "default",
        config: [{ subnet: "172.28.5.0/24", gateway: "172.28.5.254", ip_range: "172.28.5.128/25", aux_addresses: { printer: "172.28.5.5" } }],
      },
      labels: { team: "b" },
    },
    front: {},
    ext: { external: true, name: "corp", ipam: { config: [{ subnet: "10.9.0.0/16" }] } },
    default: { ipam: { config: [{ subnet: "172.28.9.0/24" }] } },
  },
});

function run(m: Mapping, networkSubnets?: Record<string, string>): Mapping {
  return transformCompose({
    model: m,
    project: "secflt",
    env: "e1",
    home: { id: "testhome", path: "/h" },
    dockerName: "cilo_testhome_secflt_e1",
    subnet: "10.224.3.0/24",
    ...(networkSubnets ? { networkSubnets } : {}),
  }).model as Mapping;
}

function refusal(fn: () => unknown): CiloError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, CiloError);
    return e as CiloError;
  }
  throw new Error("not refused");
}

test("fixedSubnetNetworks: own networks with an IPv4 ipam subnet, not default, not external", () => {
  assert.equal(fixedSubnetNetworks(model()), ["back"]);
  assert.equal(fixedSubnetNetworks({ services: {} }), []);
  assert.equal(fixedSubnetNetworks({ networks: { a: null, b: { ipam: { driver: "default" } } } }), []);
});

test("a fixed subnet is re-addressed into the env's: gateway, ip_range, aux and ipv4_address keep their offset", () => {
  const out = run(model(), { back: "10.224.7.0/24" });
  assert.equal(out.networks.back.ipam, {
    driver: "default",
    config: [{ subnet: "10.224.7.0/24", gateway: "10.224.7.254", ip_range: "10.224.7.128/25", aux_addresses: { printer: "10.224.7.5" } }],
  });
  assert.equal(out.networks.back.labels, {
    team: "b",
    "cilo.managed": "true",
    "cilo.home": "testhome",
    "cilo.home.path": "/h",
    "cilo.project": "secflt",
    "cilo.env": "e1",
  });
  assert.equal(out.services.api.networks.back, { ipv4_address: "10.224.7.10", aliases: ["rest"] });
  assert.is(out.services.db.networks.back, null);
  assert.equal(out.networks.ext, model().networks.ext, "external networks are not touched");
  assert.equal(out.networks.default.ipam, { config: [{ subnet: "10.224.3.0/24" }] });
});

test("two envs of the same model get different subnets, the input is not changed", () => {
  const m = model();
  const a = run(m, { back: "10.224.7.0/24" });
  const b = run(m, { back: "10.224.8.0/24" });
  assert.is.not(a.networks.back.ipam.config[0].subnet, b.networks.back.ipam.config[0].subnet);
  assert.is(b.services.api.networks.back.ipv4_address, "10.224.8.10");
  assert.is(m.networks.back.ipam.config[0].subnet, "172.28.5.0/24");
});

test("a smaller user subnet maps into the env's /24; a larger one maps only the addresses that fit", () => {
  const small = model();
  small.networks.back.ipam.config = [{ subnet: "172.28.5.16/28" }];
  small.services.api.networks.back.ipv4_address = "172.28.5.20";
  assert.is(run(small, { back: "10.224.7.0/24" }).services.api.networks.back.ipv4_address, "10.224.7.4");
  const big = model();
  big.networks.back.ipam.config = [{ subnet: "172.28.0.0/16" }];
  big.services.api.networks.back.ipv4_address = "172.28.0.9";
  assert.is(run(big, { back: "10.224.7.0/24" }).services.api.networks.back.ipv4_address, "10.224.7.9");
  big.services.api.networks.back.ipv4_address = "172.28.5.10";
  const e = refusal(() => run(big, { back: "10.224.7.0/24" }));
  assert.is(e.exitCode, 2);
  assert.match(
    e.message,
    /^Cannot re-address the ipv4_address of service "api" on network "back" \(172\.28\.5\.10\): its offset in 172\.28\.0\.0\/16 does not fit the env's subnet 10\.224\.7\.0\/24$/,
  );
});

test("IPv6 or two subnets on one network are refused with exit 2 naming the network", () => {
  const v6 = model();
  v6.networks.back.enable_ipv6 = true;
  v6.networks.back.ipam.config.push({ subnet: "fd00:28::/64" });
  const e = refusal(() => fixedSubnetNetworks(v6));
  assert.is(e.exitCode, 2);
  assert.match(e.message, /^Network "back" fixes the IPv6 subnet fd00:28::\/64/);
  assert.not.match(e.message, /\n/);
  const two = model();
  two.networks.back.ipam.config.push({ subnet: "172.28.6.0/24" });
  assert.match(refusal(() => run(two, { back: "10.224.7.0/24" })).message, /^Network "back" fixes 2 subnets/);
});

test("without an allocated subnet the transform refuses; without networkSubnets it leaves fixed subnets alone", () => {
  assert.match(refusal(() => run(model(), {})).message, /No subnet of the env was allocated for network "back"/);
  assert.is(run(model()).networks.back.ipam.config[0].subnet, "172.28.5.0/24");
});

const rec = (name: string, subnet: string, extra?: Record<string, string>): EnvRecord => ({
  project: "p",
  name,
  docker_name: `cilo_p_${name}`,
  status: "created",
  subnet,
  workspace: "/w",
  created_at: "",
  updated_at: "",
  services: [],
  ...(extra ? { extra_subnets: extra } : {}),
});

test("state: extra subnets are validated, must not repeat any subnet, and count as used", () => {
  const s = emptyState("testhome");
  s.envs["p/a"] = rec("a", "10.224.0.0/24", { back: "10.224.1.0/24" });
  s.envs["p/b"] = rec("b", "10.224.2.0/24");
  assert.equal(validateState(s), []);
  assert.equal(stateSubnets(s).sort(), ["10.224.0.0/24", "10.224.1.0/24", "10.224.2.0/24"]);
  assert.equal(stateSubnets(s, { env: "p/a" }).sort(), ["10.224.1.0/24", "10.224.2.0/24"], "except leaves out only the env's own subnet");
  assert.is(allocateSubnet(s.config.subnet_pool, s.config.subnet_size, stateSubnets(s)), "10.224.3.0/24");
  s.envs["p/b"] = rec("b", "10.224.1.0/24");
  assert.match(validateState(s).join("\n"), /share subnet 10\.224\.1\.0\/24/);
  s.envs["p/b"] = rec("b", "10.224.2.0/24", { back: "nope" });
  assert.match(validateState(s).join("\n"), /no valid subnet for network "back"/);
  (s.envs["p/b"] as any).extra_subnets = ["10.224.5.0/24"];
  assert.match(validateState(s).join("\n"), /invalid extra_subnets/);
});

test.run();
