import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { loadProjectConfig, type ProjectConfig } from "../config/project-config.ts";
import type { ComposeTarget } from "../compose/compose-cli.ts";
import { composeFilesOf } from "../compose/project-files.ts";
import { resolveModel } from "../compose/resolve-model.ts";
import { transformCompose } from "../compose/transform.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { composeProjectName } from "../labels.ts";
import type { EnvRecord } from "../state/schema.ts";
import { getCompose } from "./runtime.ts";

/** The rendered compose file of an env: `<workspace>/.cilo/compose.yml`. */
export function renderedComposePath(rec: EnvRecord): string {
  return join(rec.workspace, ".cilo", "compose.yml");
}

/** How to call the compose CLI on an env's rendered file. */
export function envComposeTarget(rec: EnvRecord): ComposeTarget {
  return { projectName: composeProjectName(rec.project, rec.name), files: [renderedComposePath(rec)], cwd: rec.workspace };
}

export interface RenderedEnv {
  config: ProjectConfig;
  model: Record<string, unknown>;
  services: string[];
  path: string;
  /** True when the resolved model came from the cache (no compose `config` call). */
  cached: boolean;
}

/**
 * Resolves the env's compose model in its workspace (compose `config`), transforms it for the env
 * (no host ports, no container names, env network and subnet, labels) and writes
 * `<workspace>/.cilo/compose.yml` atomically. Deterministic: same inputs, same bytes.
 */
export async function renderEnvCompose(rec: EnvRecord, extraProfiles: string[] = []): Promise<RenderedEnv> {
  const { config } = await loadProjectConfig(rec.workspace);
  const files = composeFilesOf(rec.workspace, config);
  const cli = await getCompose();
  const profiles = [...new Set([...(config.profiles ?? []), ...extraProfiles])];
  const resolved = await resolveModel({
    cli,
    dir: rec.workspace,
    files,
    ...(config.env_files ? { envFiles: config.env_files } : {}),
    ...(profiles.length > 0 ? { profiles } : {}),
    projectName: composeProjectName(rec.project, rec.name),
  });
  const out = transformCompose({ model: resolved.model, project: rec.project, env: rec.name, subnet: rec.subnet, profiles });
  const path = renderedComposePath(rec);
  mkdirSync(join(rec.workspace, ".cilo"), { recursive: true });
  writeFileAtomic(path, out.yaml);
  return { config, model: out.model, services: out.services, path, cached: resolved.cached };
}
