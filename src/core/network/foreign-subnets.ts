import { readFileSync } from "node:fs";
import { formatCidr, type Cidr } from "../cidr.ts";
import type { NetworkState, RuntimeProvider } from "../runtime/provider.ts";

/**
 * Subnets already in use outside cilo's state: every Docker network (except those named in
 * `exceptNetworks`, e.g. the env's own) and every IPv4 route of the host.
 */
export async function foreignSubnets(provider: RuntimeProvider, exceptNetworks: string[] = [], listed?: NetworkState[]): Promise<string[]> {
  const nets = listed ?? (await provider.listNetworks());
  const fromDocker = nets.filter((n) => !exceptNetworks.includes(n.name)).flatMap((n) => n.subnets.filter((s) => s.includes(".")));
  return [...fromDocker, ...hostRoutes()];
}

/** IPv4 routes from /proc/net/route (Linux); empty elsewhere. The default route is left out. */
export function hostRoutes(text?: string): string[] {
  let body = text;
  if (body === undefined) {
    try {
      body = readFileSync("/proc/net/route", "utf8");
    } catch {
      return [];
    }
  }
  const out: string[] = [];
  for (const line of body.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = leHex(f[1]!);
    const mask = leHex(f[7]!);
    if (dest === undefined || mask === undefined || mask === 0) continue;
    const prefix = 32 - Math.log2(2 ** 32 - mask);
    if (!Number.isInteger(prefix)) continue;
    out.push(formatCidr({ base: dest, prefix } as Cidr));
  }
  return out;
}

/** /proc/net/route prints addresses as little-endian hex. */
function leHex(h: string): number | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(h)) return undefined;
  const b = [h.slice(6, 8), h.slice(4, 6), h.slice(2, 4), h.slice(0, 2)].map((x) => parseInt(x, 16));
  return ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
}
