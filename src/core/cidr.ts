/** An IPv4 range as numbers: first address and prefix length. */
export interface Cidr {
  base: number;
  prefix: number;
}

export function parseIPv4(s: string): number | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/**
 * Parses `a.b.c.d/p` (1–3 digits an octet, ≤ 255; 1–2 digits of prefix, ≤ 32; surrounding white
 * space ignored); the base is masked to the prefix. Read character by character, nothing
 * allocated but the result: state validation and subnet allocation parse every env's subnet.
 */
export function parseCidr(s: string): Cidr | undefined {
  const t = s.trim();
  const n = t.length;
  let i = 0;
  let ip = 0;
  for (let part = 0; part < 5; part++) {
    let v = 0;
    let digits = 0;
    while (i < n) {
      const c = t.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
      digits++;
      i++;
    }
    if (digits === 0 || digits > (part === 4 ? 2 : 3)) return undefined;
    if (part < 4) {
      if (v > 255 || t.charCodeAt(i) !== (part === 3 ? 47 : 46)) return undefined; // `.` then `/`
      ip = ip * 256 + v;
      i++;
    } else {
      if (i !== n || v > 32) return undefined;
      return { base: maskBase(ip, v), prefix: v };
    }
  }
  return undefined;
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

/** 2 ** (32 - prefix) for the prefixes a CIDR can have: subnet allocation compares every env's subnet, without a `Math.pow` each. */
const SIZES = Array.from({ length: 33 }, (_, p) => 2 ** (32 - p));

export function cidrSize(prefix: number): number {
  return SIZES[prefix] ?? 2 ** (32 - prefix);
}

export function cidrEnd(c: Cidr): number {
  return c.base + cidrSize(c.prefix) - 1;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base <= cidrEnd(b) && b.base <= cidrEnd(a);
}

function maskBase(ip: number, prefix: number): number {
  if (prefix === 0) return 0;
  const size = cidrSize(prefix);
  return Math.floor(ip / size) * size;
}

/** The n-th host address of a subnet (1 = first usable, usually the gateway). */
export function hostAddress(c: Cidr, n: number): string {
  return formatIPv4(c.base + n);
}
