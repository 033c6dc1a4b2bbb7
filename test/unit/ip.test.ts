import { isIP } from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ipVersion } from "../../src/core/ip.ts";

const cases = [
  // IPv4
  "0.0.0.0",
  "127.0.0.1",
  "255.255.255.255",
  "10.224.3.7",
  "256.0.0.1",
  "01.2.3.4",
  "1.2.3",
  "1.2.3.4.5",
  "1.2.3.4 ",
  " 1.2.3.4",
  "1..2.3",
  "1.2.3.-4",
  "a.b.c.d",
  "1.2.3.4/24",
  "",
  ".",
  "1.2.3.4%eth0",
  // IPv6
  "::",
  "::1",
  "1::",
  "fe80::1",
  "fe80::1%eth0",
  "fe80::1%",
  "fe80::1%a%b",
  "fe80::1%en-0.1:x",
  "2001:db8::8a2e:370:7334",
  "2001:0db8:0000:0000:0000:ff00:0042:8329",
  "1:2:3:4:5:6:7:8",
  "1:2:3:4:5:6:7:8:9",
  "1:2:3:4:5:6:7",
  "1:2:3:4:5:6:7::",
  "::2:3:4:5:6:7:8",
  "1::3:4:5:6:7:8",
  "1::2::3",
  ":1",
  "1:",
  ":::",
  "1:::2",
  "12345::",
  "g::1",
  "::ffff:1.2.3.4",
  "::1.2.3.4",
  "1:2:3:4:5:6:1.2.3.4",
  "1:2:3:4:5:6:7:1.2.3.4",
  "1:2:3:4:5::1.2.3.4",
  "1:2:3:4:5:6::1.2.3.4",
  "1.2.3.4::",
  "1.2.3.4::1",
  "::1.2.3.4:1",
  "::256.1.1.1",
  "::01.2.3.4",
  "FE80::ABCD",
  "[::1]",
  "::1 ",
  "1:2:3:4:5:6:7:8%1",
];

test("ipVersion agrees with node:net isIP", () => {
  for (const s of cases) assert.is(ipVersion(s), isIP(s), JSON.stringify(s));
});

test("ipVersion agrees with node:net isIP on generated addresses", () => {
  const parts = ["", "0", "1", "ff", "FFFF", "10000", "1.2.3.4", "300.1.1.1", ":", "%z"];
  let n = 0;
  for (const a of parts)
    for (const b of parts)
      for (const c of parts)
        for (const sep of [":", "::", "."]) {
          const s = [a, b, c].join(sep);
          assert.is(ipVersion(s), isIP(s), JSON.stringify(s));
          n++;
        }
  assert.ok(n > 2000);
});

test.run();
