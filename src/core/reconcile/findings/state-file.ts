import { statePath } from "../../paths.ts";
import { STATE_VERSION } from "../../state/schema.ts";
import { backupPath, readState, reconcileIndex, repairRecord, restoreBackup, withState } from "../../state/store.ts";
import { envKey } from "../../state/schema.ts";
import { defineFinding } from "./define.ts";

/** The state file itself: repaired first, everything else reads it. */
export const STATE_FILE_FINDINGS = {
  "state-corrupt": defineFinding({
    severity: "error",
    target: "component",
    phase: 0,
    describe: "state.json is not JSON or fails validation",
    fix: async (_t, ctx) => {
      const kept = await restoreBackup(ctx);
      return `restored the state from ${backupPath(statePath(ctx.home))}; the corrupt file is kept as ${kept} (the last change before it is lost)`;
    },
  }),
  "state-record-corrupt": defineFinding({
    severity: "error",
    target: "env",
    phase: 0,
    describe: "an env's record file (records/<project>/<env>.json) is not JSON or fails validation",
    fix: async (t, ctx) => repairRecord(ctx, envKey(t.project, t.env)),
  }),
  "state-index-mismatch": defineFinding({
    severity: "warning",
    target: "env",
    phase: 0,
    describe: "the index in state.json lists an env whose record file is missing, or differs from it",
    fix: async (t, ctx) => {
      const key = envKey(t.project, t.env);
      return reconcileIndex(ctx, { drop: [key], refresh: [key] });
    },
  }),
  "state-record-orphan": defineFinding({
    severity: "warning",
    target: "path",
    phase: 0,
    describe: "a record file no env of the index owns (a create or destroy cut short)",
    fix: async (t, ctx) => {
      const m = /\/records\/([^/]+)\/([^/]+)\.json$/.exec(t.path);
      if (!m) return "not a record file; left alone";
      readState(ctx); // refuses a corrupt index first
      return reconcileIndex(ctx, { orphans: [envKey(m[1]!, m[2]!)] });
    },
  }),
  "state-schema-old": defineFinding({
    severity: "warning",
    target: "component",
    phase: 1,
    describe: "state.json has an older schema version",
    fix: async (_t, ctx) => {
      await withState(ctx, () => {});
      return `rewrote it in schema version ${STATE_VERSION}`;
    },
  }),
};
