/*
 * Two programs that do not share cilo's lock (another CILO_HOME on the same engine, or anything
 * else) can take the same free subnet between cilo's check and compose making the network.
 * compose then fails before it has made anything else, and the network's subnet is re-picked
 * now that the other network is visible: env networks (up-env.ts) and shared instances
 * (shared-instance.ts) alike.
 */

/** How often a network's subnet is re-picked when another program took it between check and compose. */
export const SUBNET_RACE_ATTEMPTS = 3;

/** compose failed making a network because another took its subnet meanwhile (Docker, Podman). */
const SUBNET_TAKEN = /Pool overlaps|subnet \S+ is already used on the host or by another config/i;

export function subnetTaken(composeOutput: string): boolean {
  return SUBNET_TAKEN.test(composeOutput);
}
