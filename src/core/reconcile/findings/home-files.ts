import { existsSync, readdirSync, rmdirSync, rmSync, statSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { CiloError } from "../../errors.ts";
import { LOCK_STALE_MS } from "../../fs/file-lock.ts";
import { envsDir } from "../../paths.ts";
import { envKey } from "../../state/schema.ts";
import { readState } from "../../state/store.ts";
import { defineFinding } from "./define.ts";
import { refuseDirty } from "./fix-helpers.ts";

/** Files under `$CILO_HOME` that a killed cilo left. */
export const HOME_FILE_FINDINGS = {
  "tmp-file-stray": defineFinding({
    severity: "warning",
    target: "path",
    phase: 1,
    describe: "the temp file of an atomic write whose writer is gone",
    fix: async (t) => {
      unlinkSync(t.path);
      return "deleted it";
    },
  }),
  "lock-stale": defineFinding({
    severity: "warning",
    target: "path",
    phase: 1,
    describe: "a lock folder not refreshed for LOCK_STALE_MS",
    fix: async (t) => {
      if (existsSync(t.path) && Date.now() - statSync(t.path).mtimeMs < LOCK_STALE_MS) throw new CiloError("E_LOCKED", "its holder refreshed it meanwhile");
      rmSync(t.path, { recursive: true, force: true });
      return "removed it";
    },
  }),
  "staging-leftover": defineFinding({
    severity: "warning",
    target: "path",
    phase: 1,
    describe: "an envs/.staging folder of a cilo create --git that did not finish",
    fix: async (t) => {
      rmSync(t.path, { recursive: true, force: true });
      return "deleted it";
    },
  }),
  "snapshot-leftover": defineFinding({
    severity: "warning",
    target: "path",
    phase: 1,
    describe: "a snapshots/.tmp-* folder of a snapshot (or snapshot rm) whose process is gone",
    fix: async (t) => {
      rmSync(t.path, { recursive: true, force: true });
      return "deleted it";
    },
  }),
  "workspace-orphaned": defineFinding({
    severity: "warning",
    target: "env",
    phase: 8,
    describe: "a folder envs/<project>/<env> without an env",
    fix: async (t, ctx) => {
      const key = envKey(t.project, t.env);
      if (readState(ctx).envs[key]) return `left it: ${key} exists now`;
      const path = join(envsDir(ctx.home), t.project, t.env);
      await refuseDirty(ctx, path, ctx.force);
      rmSync(path, { recursive: true, force: true });
      const parent = dirname(path);
      if (existsSync(parent) && readdirSync(parent).length === 0) rmdirSync(parent);
      return `deleted ${path}`;
    },
  }),
};
