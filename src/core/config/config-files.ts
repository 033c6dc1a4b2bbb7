/**
 * The names a project's cilo config file may have, first found wins. A leaf: `cilo status` and
 * other commands that only ask whether a folder is a project (current-project.ts) need not load
 * the config reader (project-config.ts).
 */
export const CONFIG_FILES = [".cilo/config.yml", ".cilo/config.yaml", "cilo.jsonc", "cilo.json"];
