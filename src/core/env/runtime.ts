// Moved to src/core/runtime/runtime.ts (so core/shared need not import core/env). Kept only for
// src/core/reconcile/*, edited in parallel: remove once it imports ../runtime/runtime.ts.
export { getCompose, getProvider, setProvider } from "../runtime/runtime.ts";
