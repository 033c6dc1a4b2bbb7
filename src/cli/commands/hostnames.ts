import type { CiloContext } from "../../core/context/context.ts";
import { currentProject } from "../../core/config/current-project.ts";
import { findEnv } from "../../core/state/find-env.ts";
import { checkDnsNames, refreshDns } from "../../core/dns/dns.ts";
import { dnsSuffixOf } from "../../core/env/urls.ts";
import { usageError } from "../../core/errors.ts";
import { isDnsLabel } from "../../core/names.ts";
import { shown } from "../../core/dns-names.ts";
import { envKey } from "../../core/state/schema.ts";
import { readState, withState } from "../../core/state/store.ts";
import { printJson, println, table } from "../output.ts";

const ACTIONS = ["list", "add", "remove", "set"];

/**
 * `cilo hostnames list|add|remove|set <env> [service] [names...]`: extra DNS labels per service,
 * served as `<name>.<env>.<suffix>`. Names are validated as DNS labels; a name that would
 * collide with another env's is refused before anything changes.
 */
export default async function hostnames(
  ctx: CiloContext,
  action: string,
  env: string,
  args: string[],
  opts: { project?: string; json?: boolean },
): Promise<number> {
  if (!ACTIONS.includes(action)) throw usageError(`Unknown hostnames action "${action}"`, `Use one of: ${ACTIONS.join(", ")}`);
  const project = await currentProject(opts.project, ctx.cwd);
  if (action === "list") {
    const rec = findEnv(readState(ctx), env, project);
    const suffix = await dnsSuffixOf(ctx, rec);
    const rows = rec.services.map((s) => {
      const names = [...new Set([...(s.hostnames ?? []), ...(rec.hostnames?.[s.name] ?? [])])].sort();
      return { service: s.name, hostnames: names, dns: names.map((n) => `${n}.${rec.name}.${suffix}`) };
    });
    if (opts.json) printJson(rows);
    else
      println(
        table(
          ["SERVICE", "HOSTNAMES"],
          rows.map((r) => [r.service, r.dns.join(", ") || "-"]),
        ),
      );
    return 0;
  }
  const [service, ...raw] = args;
  if (!service) throw usageError(`cilo hostnames ${action} needs a service and ${action === "remove" ? "the names to remove" : "one or more names"}`);
  const names = raw.map((n) => n.trim().toLowerCase());
  if (names.length === 0 && action !== "set") throw usageError(`Give one or more names to ${action}`);
  for (const n of names) {
    if (!isDnsLabel(n))
      throw usageError(`The hostname ${shown(n)} is not a DNS label: use letters, digits and "-", starting and ending with a letter or digit`);
  }
  const state = readState(ctx);
  const rec = findEnv(state, env, project);
  if (!rec.services.some((s) => s.name === service)) {
    throw usageError(`The env ${rec.project}/${rec.name} has no service ${shown(service)} (services: ${rec.services.map((s) => s.name).join(", ")})`);
  }
  const current = rec.hostnames?.[service] ?? [];
  const next = action === "add" ? [...new Set([...current, ...names])] : action === "remove" ? current.filter((n) => !names.includes(n)) : [...new Set(names)];
  if (action === "remove") {
    const missing = names.filter((n) => !current.includes(n));
    if (missing.length > 0)
      throw usageError(
        `"${missing.join('", "')}" ${missing.length === 1 ? "is" : "are"} not a custom hostname of ${service}`,
        `See them with: cilo hostnames list ${rec.project}/${rec.name}`,
      );
  }
  const other = rec.services.flatMap((s) => (s.name === service ? [] : [s.name, ...(s.hostnames ?? []), ...(rec.hostnames?.[s.name] ?? [])]));
  const taken = next.filter((n) => other.includes(n));
  if (taken.length > 0) throw usageError(`The name "${taken[0]}" already belongs to another service of ${rec.project}/${rec.name}`);
  const candidate = { ...rec, hostnames: { ...(rec.hostnames ?? {}), [service]: next.sort() } };
  await checkDnsNames(
    { ...candidate, services: candidate.services.map((s) => (s.name === service ? { ...s, hostnames: [...new Set([...(s.hostnames ?? []), ...next])] } : s)) },
    state,
  );
  await withState(ctx, (st) => {
    const cur = st.envs[envKey(rec.project, rec.name)];
    if (!cur) throw usageError(`No env "${env}" exists`);
    const map = { ...(cur.hostnames ?? {}) };
    if (next.length > 0) map[service] = next.sort();
    else delete map[service];
    if (Object.keys(map).length > 0) cur.hostnames = map;
    else delete cur.hostnames;
    cur.updated_at = new Date().toISOString();
  });
  if (rec.status === "running") await refreshDns(ctx, envKey(rec.project, rec.name));
  if (opts.json) {
    const suffix = await dnsSuffixOf(ctx, rec);
    printJson({ schema_version: 1, project: rec.project, env: rec.name, service, hostnames: next, dns: next.map((n) => `${n}.${rec.name}.${suffix}`) });
    return 0;
  }
  println(`${service} of ${rec.project}/${rec.name}: ${next.length > 0 ? next.join(", ") : "no custom hostnames"}`);
  return 0;
}
