import { statePath } from "../../paths.ts";
import { STATE_VERSION } from "../../state/schema.ts";
import { backupPath, restoreBackup, withState } from "../../state/store.ts";
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
