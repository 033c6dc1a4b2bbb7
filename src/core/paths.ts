import { join } from "node:path";

// Paths inside a home (`CiloContext.home`, resolved from `$CILO_HOME` once at the boundary).

export function statePath(home: string): string {
  return join(home, "state.json");
}

export function envsDir(home: string): string {
  return join(home, "envs");
}

export function dnsDir(home: string): string {
  return join(home, "dns");
}

export function workspacePath(project: string, env: string, home: string): string {
  return join(envsDir(home), project, env);
}

/** Volume snapshots: one folder each (`manifest.json` and `data/`); `.tmp-*` folders are being made. */
export function snapshotsDir(home: string): string {
  return join(home, "snapshots");
}

/** Per-host files (`cilo host`, docs/remote.md): `hosts/<name>/`. */
export function hostsDir(home: string): string {
  return join(home, "hosts");
}
