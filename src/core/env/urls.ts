import type { EnvRecord } from "../state/schema.ts";
import { readState, type StateHome } from "../state/store.ts";

/** The DNS suffix of an env: the project's if it set one, else the machine's. */
export async function dnsSuffixOf(ctx: StateHome, rec: EnvRecord): Promise<string> {
  return rec.dns_suffix ?? readState(ctx).config.dns_suffix;
}

/** `CILO_BASE_URL` (SPEC §6a): `http://<project>.<env>.<suffix>`. */
export function baseUrl(project: string, env: string, suffix: string): string {
  return `http://${project}.${env}.${suffix}`;
}

/** Every DNS name of a service in an env. */
export function serviceDnsNames(
  service: { name: string; hostnames?: string[]; ingress?: boolean },
  rec: EnvRecord,
  suffix: string,
  extra: string[] = [],
): string[] {
  const names = [`${service.name}.${rec.name}.${suffix}`, ...[...(service.hostnames ?? []), ...extra].map((h) => `${h}.${rec.name}.${suffix}`)];
  if (service.ingress) names.push(`${rec.project}.${rec.name}.${suffix}`, `*.${rec.project}.${rec.name}.${suffix}`);
  return [...new Set(names)];
}
