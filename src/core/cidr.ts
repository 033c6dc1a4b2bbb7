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

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/p`; the base is masked to the prefix. One match, no split: state validation parses every env's subnet on every command. */
export function parseCidr(s: string): Cidr | undefined {
  const m = CIDR.exec(s.trim());
  if (!m) return undefined;
  let ip = 0;
  for (let i = 1; i <= 4; i++) {
    const v = Number(m[i]);
    if (v > 255) return undefined;
    ip = ip * 256 + v;
  }
  const prefix = Number(m[5]);
  if (prefix > 32) return undefined;
  return { base: maskBase(ip, prefix), prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

export function cidrSize(prefix: number): number {
  return 2 ** (32 - prefix);
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
