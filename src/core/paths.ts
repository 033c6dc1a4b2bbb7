import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Where cilo keeps its state: `$CILO_HOME`, default `~/.cilo`. */
export function ciloHome(): string {
  const fromEnv = process.env["CILO_HOME"];
  return fromEnv && fromEnv.length > 0 ? resolve(fromEnv) : join(homedir(), ".cilo");
}

export function statePath(home = ciloHome()): string {
  return join(home, "state.json");
}

export function envsDir(home = ciloHome()): string {
  return join(home, "envs");
}

export function dnsDir(home = ciloHome()): string {
  return join(home, "dns");
}

export function workspacePath(project: string, env: string, home = ciloHome()): string {
  return join(envsDir(home), project, env);
}
