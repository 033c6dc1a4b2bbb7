// Reading and hand-editing a home's state files in integration tests, as a user or an attacker
// would: state.json (the home and its index) and records/<project>/<env>.json (docs/state.md, "Layout").
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** state.json as parsed JSON (home, config, index). */
export function stateDoc(home: string): Record<string, any> {
  return JSON.parse(readFileSync(join(home, "state.json"), "utf8"));
}

export function recordFile(home: string, key: string): string {
  const [project, env] = key.split("/");
  return join(home, "records", project!, `${env}.json`);
}

/** Every env's record, by `<project>/<env>`, as the files hold them (an entry whose file is gone is left out). */
export function stateEnvs(home: string): Record<string, any> {
  const out: Record<string, any> = {};
  for (const key of Object.keys(stateDoc(home).index ?? {})) {
    try {
      out[key] = JSON.parse(readFileSync(recordFile(home, key), "utf8"));
    } catch {
      // no record
    }
  }
  return out;
}

/** What the index says of each env (status, subnets, …): enough for `cilo list`. */
function entryOf(rec: Record<string, any>): Record<string, any> {
  return {
    status: rec["status"],
    subnet: rec["subnet"],
    ...(rec["extra_subnets"] && Object.keys(rec["extra_subnets"]).length ? { extra_subnets: rec["extra_subnets"] } : {}),
    ...(rec["host"] !== undefined ? { host: rec["host"] } : {}),
    ...(rec["shared_networks"]?.length ? { shared_networks: rec["shared_networks"] } : {}),
    ...(rec["dns_suffix"] !== undefined ? { dns_suffix: rec["dns_suffix"] } : {}),
    services: Array.isArray(rec["services"]) ? rec["services"].length : 0,
    created_at: rec["created_at"],
    ...(rec["owner_pid"] !== undefined ? { owner_pid: rec["owner_pid"] } : {}),
    ...(rec["lease"] !== undefined ? { lease: rec["lease"] } : {}),
    ...(rec["expires_at"] !== undefined ? { expires_at: rec["expires_at"] } : {}),
  };
}

/**
 * Writes an env's record by hand (plants it when new), and its index entry; `undefined` removes both.
 * Not atomic: nothing else may write the state meanwhile.
 */
export function plantEnv(home: string, key: string, rec: Record<string, any> | undefined): void {
  const doc = stateDoc(home);
  const file = recordFile(home, key);
  if (rec === undefined) {
    delete doc.index[key];
  } else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(rec)}\n`);
    doc.index[key] = entryOf(rec);
  }
  writeFileSync(join(home, "state.json"), `${JSON.stringify(doc)}\n`);
}

/** Changes some fields of an env's record by hand (and its index entry). */
export function editEnv(home: string, key: string, changes: Record<string, unknown>): void {
  plantEnv(home, key, { ...stateEnvs(home)[key], ...changes });
}
