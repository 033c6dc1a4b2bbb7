import { test } from "uvu";
import * as assert from "uvu/assert";
import { overlaps, parseCidr } from "../../src/core/cidr.ts";
import { isCidrText } from "../../src/core/state/index-entry.ts";
import { allocateSubnet, poolCapacity } from "../../src/core/network/subnet-pool.ts";

test("parses and masks CIDRs", () => {
  assert.equal(parseCidr("10.224.3.7/24"), parseCidr("10.224.3.0/24"));
  assert.is(parseCidr("10.300.0.0/24"), undefined);
  assert.is(parseCidr("nonsense"), undefined);
  assert.is(parseCidr("10.0.0.0/33"), undefined);
  for (const bad of ["10.0.0/8", "10.0.0.0.1/8", "a.b.c.d/8", "10.0.0.0/", "10.0.0.0", "1000.0.0.0/8", "10.0.0.0/8x", "-1.0.0.0/8"])
    assert.is(parseCidr(bad), undefined, bad);
  assert.equal(parseCidr(" 10.224.0.0/12 "), { base: (10 * 256 + 224) * 256 * 256, prefix: 12 });
  assert.equal(parseCidr("0.0.0.0/0"), { base: 0, prefix: 0 });
});

test("overlap", () => {
  assert.ok(overlaps(parseCidr("10.224.0.0/12")!, parseCidr("10.230.1.0/24")!));
  assert.not.ok(overlaps(parseCidr("10.224.0.0/24")!, parseCidr("10.224.1.0/24")!));
});

test("default pool holds 4,096 /24s", () => {
  assert.is(poolCapacity("10.224.0.0/12", 24), 4096);
});

test("allocates the first free subnet and reuses freed ones", () => {
  assert.is(allocateSubnet("10.224.0.0/12", 24, []), "10.224.0.0/24");
  assert.is(allocateSubnet("10.224.0.0/12", 24, ["10.224.0.0/24", "10.224.1.0/24"]), "10.224.2.0/24");
  assert.is(allocateSubnet("10.224.0.0/12", 24, ["10.224.0.0/24", "10.224.2.0/24"]), "10.224.1.0/24");
});

test("skips foreign networks of any size that overlap", () => {
  // A Docker network 10.224.0.0/22 blocks the first four /24s.
  assert.is(allocateSubnet("10.224.0.0/12", 24, ["10.224.0.0/22"]), "10.224.4.0/24");
  // A host route 10.224.5.128/25 blocks 10.224.5.0/24 only.
  assert.is(allocateSubnet("10.224.0.0/12", 24, ["10.224.0.0/22", "10.224.4.0/24", "10.224.5.128/25"]), "10.224.6.0/24");
  // Something covering the whole pool.
  assert.throws(() => allocateSubnet("10.224.0.0/16", 24, ["10.0.0.0/8"]), /no free \/24/);
});

test("never hands out a subnet twice until the pool is full, then reports exhaustion", () => {
  const taken: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < 256; i++) {
    const s = allocateSubnet("10.224.0.0/16", 24, taken);
    assert.not.ok(seen.has(s));
    seen.add(s);
    taken.push(s);
  }
  assert.throws(
    () => allocateSubnet("10.224.0.0/16", 24, taken),
    (e: any) => e.code === "E_SUBNET_POOL_EXHAUSTED" && /10\.224\.0\.0\/16/.test(e.message),
  );
});

test("with 1,000 envs in the default pool the next subnet is the 1,001st", () => {
  const taken = Array.from({ length: 1000 }, (_, i) => `10.${224 + Math.floor(i / 256)}.${i % 256}.0/24`);
  assert.is(allocateSubnet("10.224.0.0/12", 24, taken), "10.227.232.0/24");
});

test("other sizes", () => {
  assert.is(allocateSubnet("172.30.0.0/16", 26, ["172.30.0.0/26"]), "172.30.0.64/26");
  assert.throws(() => allocateSubnet("172.30.0.0/16", 8, []), /does not fit/);
});

// The regex parser parseCidr was until the hand-written one (kept here as the reference), and
// the index check's text test: all three must agree on every string.
const REFERENCE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
function referenceCidr(s: string): { base: number; prefix: number } | undefined {
  const m = REFERENCE.exec(s.trim());
  if (!m) return undefined;
  let ip = 0;
  for (let i = 1; i <= 4; i++) {
    const v = Number(m[i]);
    if (v > 255) return undefined;
    ip = ip * 256 + v;
  }
  const prefix = Number(m[5]);
  if (prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { base: prefix === 0 ? 0 : Math.floor(ip / size) * size, prefix };
}

test("parseCidr and isCidrText agree with the reference parser on 200,000 random and edge strings", () => {
  let seed = 11;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const alphabet = "0123456789012345678901234567890123456789..../ \tx\n";
  const samples = [
    "",
    "1.2.3.4/",
    "1.2.3.4/5 ",
    " 1.2.3.4/5",
    "1.2.3.4/05",
    "1.2.3.4/032",
    "001.002.003.004/24",
    "1.2.3/24",
    "1.2.3.4.5/24",
    "255.255.255.255/32",
    "256.0.0.0/8",
    "1.2.3.4/33",
    "1..3.4/24",
    "１.2.3.4/24",
  ];
  for (let i = 0; i < 200_000; i++) {
    if (i % 2 === 0) {
      const oct = () => String(rnd(3) === 0 ? rnd(300) : rnd(256)).padStart(rnd(4), "0");
      samples.push(`${oct()}.${oct()}.${oct()}.${oct()}/${String(rnd(40)).padStart(rnd(3), "0")}`);
    } else samples.push(Array.from({ length: rnd(20) }, () => alphabet[rnd(alphabet.length)]).join(""));
  }
  let valid = 0;
  for (const s of samples) {
    const want = referenceCidr(s);
    assert.equal(parseCidr(s), want, JSON.stringify(s));
    assert.is(isCidrText(s), want !== undefined, JSON.stringify(s));
    if (want) valid++;
  }
  assert.ok(valid > 20_000, `the samples hold valid CIDRs too (${valid})`);
});

test.run();
