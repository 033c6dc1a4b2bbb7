import { CiloError } from "../errors.ts";
import { cidrEnd, cidrSize, formatCidr, overlaps, parseCidr, type Cidr } from "../cidr.ts";

/**
 * Picks the first subnet of `size` in `pool` that overlaps none of `taken` (subnets of other envs,
 * Docker networks, host routes; as text or parsed). Pure; subnets of destroyed envs come free again by leaving `taken`.
 */
export function allocateSubnet(pool: string, size: number, taken: Iterable<string | Cidr>): string {
  const p = parseCidr(pool);
  if (!p) throw new CiloError("E_SUBNET_POOL", `The subnet pool "${pool}" is not a valid IPv4 CIDR`);
  if (size < p.prefix || size > 30) {
    throw new CiloError("E_SUBNET_POOL", `The subnet size /${size} does not fit the pool ${pool}`);
  }
  const blocks: Cidr[] = [];
  for (const t of taken) {
    const c = typeof t === "string" ? parseCidr(t) : t; // parsed already: stateSubnetsIn
    if (c && overlaps(c, p)) blocks.push(c);
  }
  blocks.sort((a, b) => a.base - b.base);
  const step = cidrSize(size);
  const end = cidrEnd(p);
  let candidate = p.base;
  let i = 0;
  while (candidate + step - 1 <= end) {
    const cand: Cidr = { base: candidate, prefix: size };
    // Skip blocks that end before the candidate starts.
    while (i < blocks.length && cidrEnd(blocks[i]!) < candidate) i++;
    let clash: Cidr | undefined;
    for (let j = i; j < blocks.length && blocks[j]!.base <= cidrEnd(cand); j++) {
      if (overlaps(blocks[j]!, cand)) {
        clash = blocks[j];
        break;
      }
    }
    if (!clash) return formatCidr(cand);
    // Jump past the clashing block, aligned to the subnet size.
    const next = cidrEnd(clash) + 1;
    candidate = Math.max(candidate + step, Math.ceil(next / step) * step);
  }
  throw new CiloError("E_SUBNET_POOL_EXHAUSTED", `The subnet pool ${pool} has no free /${size} left`, {
    hint: "Destroy unused envs (cilo gc) or choose a larger pool with cilo init --subnet-pool",
  });
}

/** How many subnets of `size` fit in `pool`. */
export function poolCapacity(pool: string, size: number): number {
  const p = parseCidr(pool);
  if (!p || size < p.prefix) return 0;
  return cidrSize(p.prefix) / cidrSize(size);
}
