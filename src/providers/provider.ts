// The RuntimeProvider interface moved to src/core/runtime/provider.ts (core owns it; providers
// implement it). Kept only for src/core/reconcile/*, edited in parallel: remove once it imports
// ../runtime/provider.ts.
export type * from "../core/runtime/provider.ts";
