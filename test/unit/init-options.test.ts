import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseInitOptions } from "../../src/cli/commands/init.ts";

test("parses and normalises init flags", () => {
  assert.equal(parseInitOptions({ subnetPool: "10.100.0.0/16", subnetSize: "/26", dnsPort: "5999", dnsSuffix: ".Local.Dev." }), {
    subnet_pool: "10.100.0.0/16",
    subnet_size: 26,
    dns_port: 5999,
    dns_suffix: "local.dev",
  });
});

test("refuses bad flags with exit 2", () => {
  for (const bad of [
    { subnetPool: "10.0.0/16" },
    { subnetSize: "40" },
    { dnsPort: "70000" },
    { dnsSuffix: "." },
    { subnetPool: "10.0.0.0/24", subnetSize: 16 },
  ]) {
    assert.throws(
      () => parseInitOptions(bad as any),
      (e: any) => e.exitCode === 2,
    );
  }
});

test.run();
