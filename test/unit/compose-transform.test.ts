// The compose transform (SPEC §3 "Compose model") on compose 1.29 `config` output and v2-shaped models.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parse } from "yaml";
import { stringifyComposeYaml } from "../../src/core/compose/compose-yaml.ts";
import { serviceLabelsOf, transformCompose, transformSharedCompose, type TransformResult } from "../../src/core/compose/transform.ts";
import { CiloError } from "../../src/core/errors.ts";

type Mapping = Record<string, any>;

const PROJECT = "shop";
const ENV = "feat-login";
const SUBNET = "10.224.3.0/24";
const HOME = { id: "testhome", path: "/home/u/.cilo" };
const SCOPE = "cilo_testhome_shop_feat-login";
const ENV_LABELS = { "cilo.managed": "true", "cilo.home": HOME.id, "cilo.home.path": HOME.path, "cilo.project": PROJECT, "cilo.env": ENV };

function fixture(name: string): Mapping {
  const file = new URL(`../fixtures/compose/${name}`, import.meta.url);
  return parse(readFileSync(file, "utf8"));
}

function run(model: Mapping, profiles?: string[]): TransformResult & { model: Mapping } {
  const input = { model, project: PROJECT, env: ENV, home: HOME, dockerName: SCOPE, subnet: SUBNET, ...(profiles ? { profiles } : {}) };
  return transformCompose(input) as TransformResult & { model: Mapping };
}

function refusal(model: Mapping): CiloError {
  try {
    run(model);
  } catch (e) {
    assert.instance(e, CiloError);
    return e as CiloError;
  }
  assert.unreachable("the transform accepted the model");
  throw new Error("unreachable");
}

const ENV_NETWORK = {
  driver: "bridge",
  ipam: { config: [{ subnet: SUBNET }] },
  labels: ENV_LABELS,
  name: SCOPE,
};

test("1.29 output: host ports and container names go, expose and environment stay", () => {
  const input = fixture("ports-and-modes.1.29.yml");
  const { model, services } = run(input);
  assert.equal(services, ["isolated", "legacy", "shared", "sidecar", "web"]);
  for (const name of services) {
    assert.not.ok("ports" in model.services[name], `${name} keeps ports`);
    assert.not.ok("container_name" in model.services[name], `${name} keeps container_name`);
  }
  const web = model.services.web;
  assert.equal(web.expose, ["80", "443"]);
  assert.equal(web.environment, input.services.web.environment);
  assert.is(web.environment.SHELL_VAR, "echo $$HOME", "compose's $$ escaping is kept for the second pass");
  assert.equal(web.command, ["httpd", "-f", "-p", "80", "-h", "/www"]);
  assert.is(model.version, "3.9");
});

test("network_mode: service:, container: and none are kept; bridge is removed", () => {
  const { model } = run(fixture("ports-and-modes.1.29.yml"));
  assert.is(model.services.sidecar.network_mode, "service:web");
  assert.is(model.services.shared.network_mode, "container:some-container");
  assert.is(model.services.isolated.network_mode, "none");
  assert.not.ok("network_mode" in model.services.legacy);
  for (const name of ["sidecar", "shared", "isolated", "legacy", "web"]) {
    assert.not.ok("networks" in model.services[name], `${name} gets no networks key`);
  }
});

test("network_mode: host is refused with exit 2 naming the service", () => {
  const model = { services: { api: { image: "x" }, probe: { image: "x", network_mode: "host" } } };
  const e = refusal(model);
  assert.is(e.exitCode, 2);
  assert.is(e.code, "E_NETWORK_MODE");
  assert.match(e.message, /"probe"/);
  assert.match(e.message, /defeats isolation/);
});

test("network_mode naming another Docker network is refused with exit 2", () => {
  const e = refusal({ services: { api: { image: "x", network_mode: "corp-net" } } });
  assert.is(e.exitCode, 2);
  assert.match(e.message, /"api".*corp-net/);
});

test("the default network becomes the env network; every service is on it", () => {
  const { model } = run(fixture("networks-volumes.1.29.yml"));
  assert.equal(model.networks.default, ENV_NETWORK);
  assert.equal(model.services.api.networks, { back: null, shared: null, default: null });
  assert.not.ok("networks" in model.services.plain, "a service without networks stays on default");
  assert.equal(model.services.worker.networks, {
    back: { aliases: ["worker-back"], ipv4_address: "172.30.8.10" },
    default: { aliases: ["jobs"] },
    "named-net": {},
  });
});

test("a networks list (as written by hand) becomes a mapping with default", () => {
  const { model } = run({ services: { api: { image: "x", networks: ["front", "back"] } }, networks: { front: {}, back: null } });
  assert.equal(model.services.api.networks, { front: null, back: null, default: null });
  assert.equal(model.networks.back, { labels: ENV_LABELS });
});

test("named networks and volumes are scoped to the env, unnamed ones get labels only", () => {
  const { model } = run(fixture("networks-volumes.1.29.yml"));
  assert.equal(model.networks["named-net"], { name: `${SCOPE}_app-net`, labels: { team: "platform", ...ENV_LABELS } });
  assert.equal(model.networks.back, {
    ipam: { config: [{ subnet: "172.30.8.0/24" }] },
    labels: { team: "backend", ...ENV_LABELS },
  });
  assert.equal(model.volumes.data, { labels: ENV_LABELS });
  assert.equal(model.volumes["named-data"], { name: `${SCOPE}_app-data`, labels: ENV_LABELS });
});

test("external networks and volumes are untouched, in both shapes", () => {
  const input = fixture("networks-volumes.1.29.yml");
  const { model } = run(input);
  for (const key of ["shared", "legacy-shared"]) assert.equal(model.networks[key], input.networks[key]);
  for (const key of ["ext-data", "legacy-ext"]) assert.equal(model.volumes[key], input.volumes[key]);

  const older = run({
    services: { api: { image: "x" } },
    networks: { proxy: { external: { name: "traefik" } } },
    volumes: { cache: { external: { name: "warm" } }, off: { external: false, name: "mine" } },
  }).model;
  assert.equal(older.networks.proxy, { external: { name: "traefik" } });
  assert.equal(older.volumes.cache, { external: { name: "warm" } });
  assert.equal(older.volumes.off, { external: false, name: `${SCOPE}_mine`, labels: ENV_LABELS });
});

test("service labels: list or mapping becomes a mapping with the cilo labels; user cilo labels stay", () => {
  const listed = run({ services: { web: { image: "x", labels: ["cilo.ingress=true", "a=b=c", "flag", "cilo.env=spoofed"] } } });
  assert.equal(listed.model.services.web.labels, {
    "cilo.ingress": "true",
    a: "b=c",
    flag: "",
    ...ENV_LABELS,
    "cilo.service": "web",
  });
  const { model } = run(fixture("labels-list.1.29.yml"));
  assert.equal(model.services.web.labels, {
    "cilo.ingress": "true",
    "com.example.role": "frontend",
    ...ENV_LABELS,
    "cilo.service": "web",
  });
  assert.equal(model.services.api.labels, {
    "cilo.hostnames": "backend,rest",
    "com.example.port": "8080",
    ...ENV_LABELS,
    "cilo.service": "api",
  });
  assert.is(model.version, "3.8");
});

test("every service gets the cilo labels, including those sharing another's network", () => {
  const { model, services } = run(fixture("ports-and-modes.1.29.yml"));
  for (const name of services) assert.equal(model.services[name].labels, { ...ENV_LABELS, "cilo.service": name });
});

test("serviceLabelsOf normalises list and mapping labels", () => {
  const model = {
    services: {
      a: { labels: ["cilo.hostnames=x,y", "bare"] },
      b: { labels: { "cilo.ingress": true, port: 8080, empty: null } },
      c: { image: "x" },
    },
  };
  assert.equal(serviceLabelsOf(model, "a"), { "cilo.hostnames": "x,y", bare: "" });
  assert.equal(serviceLabelsOf(model, "b"), { "cilo.ingress": "true", port: "8080", empty: "" });
  assert.equal(serviceLabelsOf(model, "c"), {});
  assert.equal(serviceLabelsOf(model, "missing"), {});
  assert.equal(serviceLabelsOf({}, "a"), {});
  assert.equal(serviceLabelsOf(fixture("labels-list.1.29.yml"), "api")["cilo.hostnames"], "backend,rest");
});

test("v2 shape: top-level name goes, compose-made names are dropped, explicit names scoped", () => {
  const input = fixture("shop.v2.yml");
  const { model, services } = run(input);
  assert.not.ok("name" in model);
  assert.not.ok("version" in model, "no version is added");
  assert.equal(services, ["api", "cache", "metrics", "web"]);
  assert.equal(model.networks.default, ENV_NETWORK);
  assert.equal(model.networks.back, { labels: ENV_LABELS });
  assert.equal(model.networks.proxy, { name: "traefik-public", external: true });
  assert.equal(model.networks.tools, {
    name: `${SCOPE}_shared-tools`,
    ipam: { config: [{ subnet: "172.29.0.0/24" }] },
    labels: ENV_LABELS,
  });
  assert.equal(model.volumes.data, { labels: ENV_LABELS });
  assert.equal(model.volumes.media, { name: `${SCOPE}_company-media`, labels: ENV_LABELS });
  assert.equal(model.volumes["cache-ext"], input.volumes["cache-ext"]);
  assert.equal(model.services.web.networks, { default: null, proxy: null, tools: { ipv4_address: "172.29.0.10" } });
  assert.equal(model.services.api.networks, { back: { aliases: ["rest"] }, default: null });
  assert.is(model.services.metrics.network_mode, "service:web");
  for (const name of services) {
    assert.not.ok("ports" in model.services[name]);
    assert.not.ok("container_name" in model.services[name]);
  }
  assert.equal(model.services.api.depends_on, input.services.api.depends_on);
  assert.equal(model.services.api.volumes, input.services.api.volumes);
  assert.is(model["x-cilo-note"], "kept as is");
});

test("a model without networks or volumes gets only the env network", () => {
  const { model, yaml } = run({ services: { solo: { image: "x" } } });
  assert.equal(Object.keys(model).sort(), ["networks", "services"]);
  assert.equal(model.networks, { default: ENV_NETWORK });
  assert.equal(parse(yaml), model);
});

test("the yaml is the model, keys sorted at every depth, list order kept", () => {
  for (const name of ["ports-and-modes.1.29.yml", "networks-volumes.1.29.yml", "complex.1.29.yml", "shop.v2.yml"]) {
    const { model, yaml } = run(fixture(name));
    assert.equal(parse(yaml), model, name);
    assertSorted(parse(yaml), name);
  }
  const { yaml } = run(fixture("complex.1.29.yml"), ["debug"]);
  assert.ok(yaml.indexOf("  api:") < yaml.indexOf("  debug:") && yaml.indexOf("  debug:") < yaml.indexOf("  web:"));
  assert.match(yaml, /- CMD\n\s+- wget\n\s+- -q\n\s+- -O\n\s+- "-"\n/);
});

test("determinism: keys inserted in another order give byte-identical yaml", () => {
  const input = fixture("shop.v2.yml");
  const a = run(input).yaml;
  assert.is(run(input).yaml, a);
  assert.is(run(reversed(input) as Mapping).yaml, a);
  assert.is(run(fixture("shop.v2.yml")).yaml, a);
});

test("the input is not mutated and the result shares nothing with it", () => {
  for (const name of ["ports-and-modes.1.29.yml", "networks-volumes.1.29.yml", "shop.v2.yml"]) {
    const input = fixture(name);
    const before = structuredClone(input);
    const { model } = run(input);
    assert.equal(input, before, name);
    model.services[Object.keys(model.services)[0]!].image = "changed";
    for (const value of Object.values(model.volumes ?? {})) if (value && typeof value === "object") (value as Mapping).touched = 1;
    assert.equal(input, before, name);
  }
});

test("no anchors or aliases, even when the model shares objects", () => {
  const env = { A: "1" };
  const { yaml } = run({ services: { a: { image: "x", environment: env }, b: { image: "x", environment: env } } });
  assert.not.match(yaml, /[&*]a\d|&id|\*id/);
  assert.equal(parse(yaml).services.b.environment, { A: "1" });
});

test("strings YAML 1.1 would read as something else are quoted", () => {
  const values = ["on", "yes", "NO", "y", "12:30", "0777", "1_000", "0x1F", ".inf", "2001-01-01", "=", "<<", "null", "~", "true", "8080"];
  const environment = Object.fromEntries(values.map((v, i) => [`V${i}`, v]));
  const yaml = stringifyComposeYaml({ environment });
  for (const [i, v] of values.entries()) assert.ok(yaml.includes(`V${i}: "${v}"`), `${v} is not quoted in:\n${yaml}`);
  assert.equal(parse(yaml, { version: "1.1" }), { environment });
});

test("invalid model shapes are refused with exit 2", () => {
  for (const model of [
    { services: ["web"] },
    { services: { web: "image: x" } },
    { services: { web: { labels: "a=b" } } },
    { services: { web: { networks: [{ name: "x" }] } } },
    { services: {}, volumes: ["data"] },
    { services: { web: { network_mode: 3 } } },
    { services: { web: { labels: [1] } } },
  ]) {
    const e = refusal(model);
    assert.is(e.exitCode, 2, JSON.stringify(model));
    assert.is(e.code, "E_COMPOSE_INVALID");
  }
});

test("profiles: only services of enabled profiles are rendered, without their profiles key", () => {
  const input = fixture("complex.1.29.yml");
  assert.equal(input.services.debug.profiles, ["debug"], "compose 1.29 config keeps services of every profile");
  const plain = run(input);
  assert.equal(plain.services, ["api", "web"]);
  assert.equal(Object.keys(plain.model.services), ["api", "web"]);
  assert.not.match(plain.yaml, /debug:|profiles:/);
  for (const profiles of [["debug"], ["other", "debug"], ["*"]]) {
    const { model, services } = run(input, profiles);
    assert.equal(services, ["api", "debug", "web"], profiles.join(","));
    assert.not.ok("profiles" in model.services.debug);
    assert.equal(model.services.debug.labels["cilo.service"], "debug");
  }
  assert.equal(run(input, ["other"]).services, ["api", "web"]);
  assert.equal(run({ services: { a: { image: "x", profiles: [] } } }).services, ["a"]);
  assert.is(refusal({ services: { a: { image: "x", profiles: "debug" } } }).code, "E_COMPOSE_INVALID");
});

function assertSorted(value: unknown, where: string): void {
  if (Array.isArray(value)) {
    for (const item of value) assertSorted(item, where);
  } else if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    assert.equal(keys, [...keys].sort(), `${where}: ${keys.join(",")}`);
    for (const item of Object.values(value)) assertSorted(item, where);
  }
}

function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversed(v)]),
  );
}

test("cilo.ca: a labelled service gets the CA certificate and bundle mounted read-only and the trust variables (its own values kept); others and no CA: unchanged", () => {
  const model = {
    services: {
      app: { image: "x", labels: { "cilo.ca": "true" }, environment: { A: "1", SSL_CERT_FILE: "/own/bundle.pem" } },
      worker: { image: "x", labels: { "cilo.ca": "/etc/ssl/cilo.pem" }, volumes: ["./d:/d"], environment: ["B=2", "CURL_CA_BUNDLE=/mine"] },
      db: { image: "x" },
    },
  };
  const ca = { cert: "/home/u/.cilo/gateway/ca.crt", bundle: "/home/u/.cilo/gateway/ca-bundle.pem" };
  const withCa = transformCompose({ model, project: PROJECT, env: ENV, home: HOME, dockerName: SCOPE, subnet: SUBNET, ca }).model as Mapping;
  assert.equal(withCa["services"].app.volumes, [
    "/home/u/.cilo/gateway/ca.crt:/run/cilo/ca.crt:ro",
    "/home/u/.cilo/gateway/ca-bundle.pem:/run/cilo/ca-bundle.pem:ro",
  ]);
  assert.equal(withCa["services"].app.environment, {
    A: "1",
    SSL_CERT_FILE: "/own/bundle.pem",
    CILO_CA_CERT: "/run/cilo/ca.crt",
    CILO_CA_BUNDLE: "/run/cilo/ca-bundle.pem",
    REQUESTS_CA_BUNDLE: "/run/cilo/ca-bundle.pem",
    CURL_CA_BUNDLE: "/run/cilo/ca-bundle.pem",
    NODE_EXTRA_CA_CERTS: "/run/cilo/ca.crt",
  });
  assert.equal(withCa["services"].worker.volumes, [
    "./d:/d",
    "/home/u/.cilo/gateway/ca.crt:/etc/ssl/cilo.pem:ro",
    "/home/u/.cilo/gateway/ca-bundle.pem:/run/cilo/ca-bundle.pem:ro",
  ]);
  assert.equal(withCa["services"].worker.environment, [
    "B=2",
    "CURL_CA_BUNDLE=/mine",
    "CILO_CA_CERT=/etc/ssl/cilo.pem",
    "CILO_CA_BUNDLE=/run/cilo/ca-bundle.pem",
    "SSL_CERT_FILE=/run/cilo/ca-bundle.pem",
    "REQUESTS_CA_BUNDLE=/run/cilo/ca-bundle.pem",
    "NODE_EXTRA_CA_CERTS=/etc/ssl/cilo.pem",
  ]);
  assert.is(withCa["services"].db.volumes, undefined);
  assert.is(withCa["services"].db.environment, undefined);
  assert.is(run(model).model["services"].app.volumes, undefined, "no CA given (gateway off, remote engine): nothing mounted");
  for (const bad of ["relative/path", "/etc/../root/x", "/x:/y", "/a b", "/run/cilo/ca-bundle.pem"]) {
    const m = { services: { app: { image: "x", labels: { "cilo.ca": bad } } } };
    assert.throws(() => transformCompose({ model: m, project: PROJECT, env: ENV, home: HOME, dockerName: SCOPE, subnet: SUBNET, ca }), /cilo\.ca/, bad);
  }
  const badPath = { cert: "/h/ca.crt", bundle: "/h/x:y.pem" };
  const m = { services: { app: { image: "x", labels: { "cilo.ca": "true" } } } };
  assert.throws(
    () => transformCompose({ model: m, project: PROJECT, env: ENV, home: HOME, dockerName: SCOPE, subnet: SUBNET, ca: badPath }),
    /cannot be mounted/,
  );
});

test("podman: networks with ipam state Podman's IPAM option driver host-local (compose 1.29 compares it on every up); docker and external: unchanged", () => {
  const model = {
    services: { web: { image: "nginx", networks: { default: null, back: null } } },
    networks: {
      back: { ipam: { config: [{ subnet: "172.30.0.0/24" }], options: { foo: "bar" } } },
      plain: {},
      fixed: { ipam: { options: { driver: "dhcp" } } },
      outside: { external: true, name: "x" },
    },
  };
  const base = { model, project: PROJECT, env: ENV, home: HOME, dockerName: SCOPE, subnet: SUBNET };
  const podman = transformCompose({ ...base, engine: "podman" }).model as Mapping;
  assert.equal(podman["networks"].default.ipam, { config: [{ subnet: SUBNET }], options: { driver: "host-local" } });
  assert.equal(podman["networks"].back.ipam.options, { foo: "bar", driver: "host-local" });
  assert.is(podman["networks"].plain.ipam, undefined, "a network without ipam is not compared by compose");
  assert.equal(podman["networks"].fixed.ipam.options, { driver: "dhcp" }, "a driver the file names is kept");
  assert.equal(podman["networks"].outside, { external: true, name: "x" });
  assert.equal(model.networks.back.ipam.options, { foo: "bar" }, "the input is not mutated");
  const docker = transformCompose({ ...base, engine: "docker" }).model as Mapping;
  assert.equal(docker["networks"].default.ipam, { config: [{ subnet: SUBNET }] });
  assert.equal(docker["networks"].back.ipam.options, { foo: "bar" });
  assert.equal(transformCompose(base).model["networks"], docker["networks"], "no engine: Docker's file");
  const shared = { model, project: PROJECT, services: ["web"], network: "n", subnet: SUBNET, labels: {}, composeProject: "n" };
  assert.equal((transformSharedCompose({ ...shared, engine: "podman" }).model as Mapping)["networks"].default.ipam.options, { driver: "host-local" });
  assert.is((transformSharedCompose(shared).model as Mapping)["networks"].default.ipam.options, undefined);
});

test.run();
