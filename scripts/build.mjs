// Bundles the CLI for fast start-up: dist/cilo.mjs is the entry; heavy modules (dockerode, listr2,
// zx, yaml) land in chunks under dist/chunks/ that load only when a command needs them.
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { build } from "esbuild";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
// Build beside dist/ and swap it in, so a CLI started meanwhile never sees a half-written dist/.
const out = new URL(`../dist.build-${process.pid}`, import.meta.url);
const dist = new URL("../dist", import.meta.url);
const old = new URL(`../dist.old-${process.pid}`, import.meta.url);
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: { cilo: "src/main.ts" },
  outdir: out.pathname,
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: process.env.CILO_BUILD_DEBUG !== "1",
  legalComments: "none",
  logLevel: "warning",
  // cpu-features and ssh-agent bits of ssh2 are optional native helpers dockerode never needs here.
  external: ["cpu-features", "*.node"],
  define: { __CILO_VERSION__: JSON.stringify(pkg.version) },
  banner: {
    // CommonJS dependencies (dockerode → ssh2) expect require, __filename and __dirname.
    js: [
      "#!/usr/bin/env node",
      "import { createRequire as __ciloCreateRequire } from 'node:module';",
      "import { fileURLToPath as __ciloFileURLToPath } from 'node:url';",
      "import { dirname as __ciloDirname } from 'node:path';",
      "const require = __ciloCreateRequire(import.meta.url);",
      "const __filename = __ciloFileURLToPath(import.meta.url);",
      "const __dirname = __ciloDirname(__filename);",
    ].join("\n"),
  },
});
if (existsSync(dist)) renameSync(dist, old);
renameSync(out, dist);
rmSync(old, { recursive: true, force: true });
