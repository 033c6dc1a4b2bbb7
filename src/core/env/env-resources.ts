// Moved to src/core/runtime/env-resources.ts (so core/shared need not import core/env). Kept only
// for src/core/reconcile/*, edited in parallel: remove once it imports ../runtime/env-resources.ts.
export * from "../runtime/env-resources.ts";
