// The import rules the build enforces (issue 13): run `node scripts/check-layers.mjs`.
// dependency-cruiser 18's own CLI (`npx depcruise src`) reads this file too, on Node >= 22.
//
// Layers, top to bottom:
//
//   src/main.ts        the entry and composition root: picks the container runtime (Docker)
//   src/cli            command-line parsing and output; may use workflow and core
//   src/mcp            the MCP server (cilo mcp), a front end beside cli: uses workflow and core;
//                      only cli (its mcp command) loads it
//   src/workflow       workflow files and their runner; uses core only
//   src/core           envs, state, DNS, compose; owns the RuntimeProvider interface
//                      (src/core/runtime/provider.ts) and never names an implementation
//   src/providers      implementations of core's RuntimeProvider (Docker through dockerode);
//                      they import core's interface and errors, nothing above core
//
// So core depends on no provider: a provider plugs into core's interface, and only main.ts
// (or cli) says which one to use. Inside core the files directly in src/core/ (errors, names,
// labels, paths, dns-names, cidr, ...) are its leaves: they import no sub-folder of core, and
// core's sub-folders do not import each other in a circle (env -> shared -> runtime, not back).

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-upward-to-cli",
      severity: "error",
      comment: "Only the entry point may import the command-line layer.",
      from: { path: "^src/(workflow|core|providers)/" },
      to: { path: "^src/cli/" },
    },
    {
      name: "no-import-of-mcp",
      severity: "error",
      comment: "src/mcp is a front end beside src/cli (cilo mcp): only the command-line layer (its mcp command) may load it.",
      from: { path: "^src/(workflow|core|providers)/" },
      to: { path: "^src/mcp/" },
    },
    {
      name: "mcp-not-to-cli",
      severity: "error",
      comment: "The MCP front end calls workflow and core like the CLI does, never the CLI's commands.",
      from: { path: "^src/mcp/" },
      to: { path: "^src/cli/" },
    },
    {
      name: "no-mcp-to-providers",
      severity: "error",
      comment: "mcp reaches the runtime through core (CiloContext.provider()), never an implementation.",
      from: { path: "^src/mcp/" },
      to: { path: "^src/providers/" },
    },
    {
      name: "no-upward-to-workflow",
      severity: "error",
      comment: "core and providers work without knowing about workflow files.",
      from: { path: "^src/(core|providers)/" },
      to: { path: "^src/workflow/" },
    },
    {
      name: "no-core-to-providers",
      severity: "error",
      comment:
        "core talks to a container runtime only through its RuntimeProvider interface (src/core/runtime/provider.ts); main.ts creates the implementation in the context.",
      from: { path: "^src/core/" },
      to: { path: "^src/providers/" },
    },
    {
      name: "no-workflow-to-providers",
      severity: "error",
      comment: "workflow reaches the runtime through core (CiloContext.provider()), never an implementation.",
      from: { path: "^src/workflow/" },
      to: { path: "^src/providers/" },
    },
    {
      name: "no-import-of-entry",
      severity: "error",
      comment: "src/main.ts is the entry point; nothing in src imports it.",
      from: { path: "^src/" },
      to: { path: "^src/main\\.ts$" },
    },
    {
      name: "core-leaves-stay-leaves",
      severity: "error",
      comment:
        "The files directly in src/core/ (errors, names, paths, labels, ...) are core's bottom: they import no sub-folder of core.",
      from: { path: "^src/core/[^/]+\\.ts$" },
      to: { path: "^src/core/[^/]+/" },
    },
    {
      name: "no-circular",
      severity: "error",
      comment: "No module imports itself through others at run time (a cycle of type-only imports, such as an id union derived from a registry, is erased by the compiler).",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "no-circular-folders",
      severity: "error",
      comment:
        "No two folders of src import each other, directly or through others (e.g. core/env <-> core/shared, core/network <-> core/state).",
      scope: "folder",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "no-orphans",
      severity: "error",
      comment: "Every module in src is reachable from another one (dead files are removed, not kept).",
      from: { orphan: true, path: "^src/", pathNot: ["^src/main\\.ts$", "^src/lib\\.ts$", "\\.d\\.ts$"] },
      to: {},
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "Every import resolves to a file or an installed package.",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
    {
      name: "only-bundled-packages",
      severity: "error",
      comment:
        "All packages are devDependencies because scripts/build.mjs bundles them into dist/. src may import only those bundled runtime libraries, not build or test tooling (esbuild, typescript, uvu, tsx, biome, dependency-cruiser, ...).",
      from: { path: "^src/" },
      to: {
        dependencyTypes: ["npm", "npm-dev", "npm-optional", "npm-peer", "npm-bundled", "npm-no-pkg", "npm-unknown"],
        pathNot: "node_modules/(@types/)?(@modelcontextprotocol/sdk|ajv|cac|dockerode|ignore|jsonc-parser|listr2|proper-lockfile|yaml|zod)/",
      },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports are dependencies too: a layer must not even name an upper layer's types.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
    },
  },
};
