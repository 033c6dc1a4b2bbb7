import { test } from "uvu";
import * as assert from "uvu/assert";
import { serviceEndpoints } from "../../src/core/env/urls.ts";
import type { EnvRecord } from "../../src/core/state/schema.ts";

const rec: Pick<EnvRecord, "project" | "name" | "services" | "forwards"> = {
  project: "shop",
  name: "feat-x",
  services: [{ name: "web", ingress: true, port: 3000 }, { name: "db", port: 5432, tcp: [5432] }, { name: "cache" }],
  forwards: [{ service: "db", port: 5432, address: "127.0.0.1", host_port: 15001 }],
};

test("serviceEndpoints: .localhost URLs through a local gateway, the .test URL on the service's port, TCP forwards; sorted", () => {
  assert.equal(serviceEndpoints(rec, { dns_suffix: "test", gateway_http_port: 18080 }, true), [
    { service: "cache", urls: ["http://cache.feat-x.shop.localhost:18080/", "http://cache.feat-x.test/"], tcp: [] },
    { service: "db", urls: [], tcp: [{ address: "127.0.0.1:15001", port: 5432 }] },
    {
      service: "web",
      urls: ["http://web.feat-x.shop.localhost:18080/", "http://feat-x.shop.localhost:18080/", "http://web.feat-x.test:3000/"],
      tcp: [],
    },
  ]);
});

test("serviceEndpoints: without the gateway only .test URLs; gateway routing puts .test names on the gateway's port; the env's suffix wins", () => {
  const web = (config: Parameters<typeof serviceEndpoints>[1], via: boolean, r = rec) =>
    serviceEndpoints(r, config, via).find((e) => e.service === "web")!.urls;
  assert.equal(web({ dns_suffix: "test" }, false), ["http://web.feat-x.test:3000/"]);
  assert.equal(web({ dns_suffix: "test", routing: "gateway" }, false), ["http://web.feat-x.test/"]);
  assert.equal(web({ dns_suffix: "test" }, false, { ...rec, dns_suffix: "dev" } as typeof rec), ["http://web.feat-x.dev:3000/"]);
});

test.run();
