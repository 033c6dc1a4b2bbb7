#!/usr/bin/env node
// The installed `cilo` command. Node ≥ 22.1 keeps compiled code of the bundle between runs
// (module.enableCompileCache); older versions skip that. Then the bundled CLI runs.
import module from "node:module";

module.enableCompileCache?.();
const { main, reportError } = await import("../dist/cilo.mjs");
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = reportError(e);
  },
);
