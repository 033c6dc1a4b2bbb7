// The transform for shared services (SPEC §8): the env side and the shared instance's side.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { transformCompose, transformSharedCompose } from "../../src/core/compose/transform.ts";

const HOME = { id: "testhome", path: "/home/u/.cilo" };

const model = () => ({
  version: "3.9",
  services: {
    app: {
      image: "app",
      depends_on: { db: { condition: "service_healthy" }, cache: { condition: "service_started" } },
      links: ["db:database", "cache"],
      volumes: ["appdata:/var/app:rw"],
    },
    cache: { image: "cache", networks: ["back"] },
    db: { image: "db", ports: ["5432:5432"], container_name: "the-db", volumes: ["dbdata:/var/lib/db:rw"], healthcheck: { test: ["CMD", "true"] } },
    worker: { image: "w", depends_on: ["db"] },
  },
  networks: { back: {} },
  volumes: { appdata: {}, dbdata: { name: "db-data" } },
});

const env = () =>
  transformCompose({
    model: model(),
    project: "shop",
    env: "e1",
    home: HOME,
    dockerName: "cilo_shop_e1",
    subnet: "10.224.1.0/24",
    shared: { services: ["db"], network: "cilo_shop__shared" },
  }).model as any;

test("shared services leave the env, with every reference to them", () => {
  const m = env();
  assert.equal(Object.keys(m.services).sort(), ["app", "cache", "worker"]);
  assert.equal(m.services.app.depends_on, { cache: { condition: "service_started" } });
  assert.equal(m.services.app.links, ["cache"]);
  assert.not.ok("depends_on" in m.services.worker);
  assert.equal(Object.keys(m.volumes), ["appdata"], "the shared service's volume is not created per env");
});

test("every env service joins the shared network, which is external", () => {
  const m = env();
  assert.equal(m.networks.cilo_shared, { external: true, name: "cilo_shop__shared" });
  assert.equal(m.services.app.networks, { default: null, cilo_shared: null });
  assert.equal(m.services.cache.networks, { back: null, default: null, cilo_shared: null });
});

test("joined networks of other envs are attached as external networks", () => {
  const m = transformCompose({
    model: model(),
    project: "shop",
    env: "e1",
    home: HOME,
    dockerName: "cilo_shop_e1",
    subnet: "10.224.1.0/24",
    joinNetworks: ["cilo_shop_db"],
  }).model as any;
  assert.equal(m.networks.cilo_join_1, { external: true, name: "cilo_shop_db" });
  assert.equal(m.services.db.networks, { default: null, cilo_join_1: null });
});

test("an unknown shared service is refused", () => {
  assert.throws(
    () =>
      transformCompose({
        model: model(),
        project: "shop",
        env: "e1",
        home: HOME,
        dockerName: "cilo_shop_e1",
        subnet: "10.224.1.0/24",
        shared: { services: ["nope"], network: "n" },
      }),
    /not a service/,
  );
});

test("a service sharing the network namespace of a shared service is refused", () => {
  const m = model() as any;
  m.services.side = { image: "s", network_mode: "service:db" };
  assert.throws(
    () =>
      transformCompose({
        model: m,
        project: "shop",
        env: "e1",
        home: HOME,
        dockerName: "cilo_shop_e1",
        subnet: "10.224.1.0/24",
        shared: { services: ["db"], network: "n" },
      }),
    /shares the network of "db"/,
  );
});

const labels = { "cilo.managed": "true", "cilo.project": "shop", "cilo.shared": "true" };

test("the shared instance has only the shared services, on the shared network, volumes scoped", () => {
  const r = transformSharedCompose({
    model: model(),
    project: "shop",
    services: ["db"],
    network: "cilo_shop__shared",
    subnet: "10.224.9.0/24",
    labels,
    composeProject: "cilo_shop__shared",
  });
  const m = r.model as any;
  assert.equal(r.services, ["db"]);
  assert.not.ok("ports" in m.services.db);
  assert.not.ok("container_name" in m.services.db);
  assert.equal(m.services.db.labels, { ...labels, "cilo.service": "db" });
  assert.equal(m.networks.default, { driver: "bridge", ipam: { config: [{ subnet: "10.224.9.0/24" }] }, labels, name: "cilo_shop__shared" });
  assert.equal(Object.keys(m.volumes), ["dbdata"]);
  assert.is(m.volumes.dbdata.name, "cilo_shop__shared_db-data");
  assert.equal(m.volumes.dbdata.labels, labels);
});

test("a shared service may not depend on an isolated one; output is deterministic", () => {
  assert.throws(
    () => transformSharedCompose({ model: model(), project: "shop", services: ["worker"], network: "n", subnet: "10.224.9.0/24", labels, composeProject: "c" }),
    /depends on "db", which is not shared/,
  );
  const a = transformSharedCompose({
    model: model(),
    project: "shop",
    services: ["db"],
    network: "n",
    subnet: "10.224.9.0/24",
    labels,
    composeProject: "c",
  }).yaml;
  const b = transformSharedCompose({
    model: model(),
    project: "shop",
    services: ["db"],
    network: "n",
    subnet: "10.224.9.0/24",
    labels,
    composeProject: "c",
  }).yaml;
  assert.is(a, b);
});

test.run();
