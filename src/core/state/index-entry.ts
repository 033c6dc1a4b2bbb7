import { HOST_LABEL, parseDnsSuffix, shown } from "../dns-names.ts";
import { isRecord } from "../is-record.ts";
import { ENV_STATUSES, type EnvRecord, type EnvStatus, type State } from "./schema.ts";
import { homeProblems, hostProblems, subnetProblems, type SubnetOwner } from "./validate.ts";

/*
 * An index entry of `state.json` (docs/state.md, "Layout"): its shape, how a record makes it, and
 * how it is checked. A leaf of the state folder: the layout (render, splice, lazy envs) and the
 * index view (state.json read without parsing every entry) both use it.
 */

/** What the index keeps of an env: enough to allocate subnets, find names and show `cilo list`. */
export interface EnvIndexEntry {
  status: EnvStatus;
  subnet: string;
  extra_subnets?: Record<string, string>;
  host?: string;
  shared_networks?: string[];
  /** The env's own DNS suffix, when it has one: the DNS collision check picks the envs to read by it. */
  dns_suffix?: string;
  /** Number of services. */
  services: number;
  created_at: string;
  owner_pid?: number;
  lease?: "mcp";
  expires_at?: string;
}

/** The index form of a record: a pure function of it, rewritten whenever the record is. */
export function indexEntryOf(rec: EnvRecord): EnvIndexEntry {
  return {
    status: rec.status,
    subnet: rec.subnet,
    ...(rec.extra_subnets && Object.keys(rec.extra_subnets).length ? { extra_subnets: rec.extra_subnets } : {}),
    ...(rec.host !== undefined ? { host: rec.host } : {}),
    ...(rec.shared_networks?.length ? { shared_networks: rec.shared_networks } : {}),
    ...(rec.dns_suffix !== undefined ? { dns_suffix: rec.dns_suffix } : {}),
    services: Array.isArray(rec.services) ? rec.services.length : 0,
    created_at: rec.created_at,
    ...(rec.owner_pid !== undefined ? { owner_pid: rec.owner_pid } : {}),
    ...(rec.lease !== undefined ? { lease: rec.lease } : {}),
    ...(rec.expires_at !== undefined ? { expires_at: rec.expires_at } : {}),
  };
}

/** `state.json` of schema 3: the home and the index. */
export interface IndexDoc extends Omit<State, "envs"> {
  index: Record<string, EnvIndexEntry>;
}

// A CIDR as parseCidr accepts it (each octet ≤ 255, prefix ≤ 32), tested without parsing: every
// command that reads an index checks every entry's subnet.
const CIDR_TEXT = /^\s*(?:(?:[01]?\d?\d|2[0-4]\d|25[0-5])\.){3}(?:[01]?\d?\d|2[0-4]\d|25[0-5])\/(?:[0-2]?\d|3[0-2])\s*$/;

export function isCidrText(s: unknown): s is string {
  return typeof s === "string" && CIDR_TEXT.test(s);
}

/**
 * Problems of an index document: the home's, each entry's shape, subnets shared, hosts unknown.
 * One pass over arrays of the entries: every command that reads state runs it over every entry
 * the first time it reads a text. A write of some entries checks those only (`changeProblems`).
 */
export function indexProblems(doc: Partial<IndexDoc>): string[] {
  const problems = homeProblems(doc as Partial<State>);
  const index = doc.index;
  if (!isRecord(index)) {
    problems.push("`index` is missing or not an object");
    return problems;
  }
  const owners: SubnetOwner[] = [];
  const keys = Object.keys(index);
  const entries = Object.values(index);
  for (let i = 0; i < keys.length; i++) entryProblems(keys[i]!, entries[i], doc.hosts, problems, owners);
  problems.push(...subnetProblems(owners, doc.shared));
  return problems;
}

/** One index entry's own problems, pushed to `problems`; its subnets pushed to `owners`. */
// `<project>/<env>`, each a DNS label (`HOST_LABEL`): one test, no slices, for every entry of every index read.
export const ENV_KEY = new RegExp(`^${HOST_LABEL.source.slice(1, -1)}/${HOST_LABEL.source.slice(1, -1)}$`);
export const STATUSES: ReadonlySet<unknown> = new Set(ENV_STATUSES);

export function entryProblems(key: string, e: unknown, hosts: unknown, problems: string[], owners: SubnetOwner[]): void {
  if (!ENV_KEY.test(key)) {
    problems.push(`the index has the env key ${shown(key)}, which is not <project>/<env> of DNS labels`);
    return;
  }
  if (!isRecord(e)) {
    problems.push(`the index entry of ${shown(key)} is not an object`);
    return;
  }
  if (!STATUSES.has(e["status"])) problems.push(`the index entry of ${shown(key)} has unknown status ${shown(String(e["status"]))}`);
  const subnet = e["subnet"];
  const host = e["host"];
  if (!isCidrText(subnet)) problems.push(`the index entry of ${shown(key)} has no valid subnet`);
  else owners.push(typeof host === "string" ? { key, subnet, host } : { key, subnet });
  const extra = e["extra_subnets"];
  if (extra !== undefined) {
    if (!isRecord(extra)) problems.push(`the index entry of ${shown(key)} has an invalid extra_subnets map`);
    else
      for (const network in extra) {
        const x = extra[network];
        if (!isCidrText(x)) problems.push(`the index entry of ${shown(key)} has an invalid extra_subnets map`);
        else owners.push(typeof host === "string" ? { key, subnet: x, network, host } : { key, subnet: x, network });
      }
  }
  // Checked as a suffix here too, not only in the record: create's collision check picks envs by it.
  if (e["dns_suffix"] !== undefined && (typeof e["dns_suffix"] !== "string" || "why" in parseDnsSuffix(e["dns_suffix"])))
    problems.push(`the index entry of ${shown(key)} has the dns_suffix ${shown(e["dns_suffix"])}, which is not a DNS suffix`);
  const joined = e["shared_networks"];
  if (joined !== undefined && !(Array.isArray(joined) && joined.every((k) => typeof k === "string")))
    problems.push(`the index entry of ${shown(key)} has an invalid shared_networks list`);
  if (host !== undefined) for (const p of hostProblems(key, host, hosts)) problems.push(p);
  // What `cilo list` prints from the entry alone (a hand-edited index must be E_STATE_CORRUPT, not a crash).
  const services = e["services"];
  if (typeof services !== "number" || !Number.isInteger(services) || services < 0) problems.push(`the index entry of ${shown(key)} has no service count`);
  if (typeof e["created_at"] !== "string") problems.push(`the index entry of ${shown(key)} has no created_at time`);
  const pid = e["owner_pid"];
  if (pid !== undefined && !(typeof pid === "number" && Number.isInteger(pid) && pid > 0))
    problems.push(`the index entry of ${shown(key)} has an invalid owner_pid`);
  if (e["lease"] !== undefined && e["lease"] !== "mcp") problems.push(`the index entry of ${shown(key)} has an unknown lease ${shown(String(e["lease"]))}`);
  if (e["expires_at"] !== undefined && (typeof e["expires_at"] !== "string" || Number.isNaN(Date.parse(e["expires_at"]))))
    problems.push(`the index entry of ${shown(key)} has an invalid expires_at time`);
}
