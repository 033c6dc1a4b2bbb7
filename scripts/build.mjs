// Bundles the CLI for fast start-up: dist/cilo.mjs is the entry; heavy modules (dockerode, listr2,
// zx, yaml) land in chunks under dist/chunks/ that load only when a command needs them, and the
// parts of dockerode that cilo rarely or never uses in dist/lazy/ (see lazyBundles).
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { build } from "esbuild";

/**
 * dockerode requires ssh2 (for ssh:// hosts), gRPC and protobufjs (for BuildKit sessions and
 * progress) and tar-fs (for build contexts) when it loads: three quarters of its bundled code,
 * which every command that talks to Docker would parse and run. Each becomes a CommonJS bundle of
 * its own in dist/lazy/, required (synchronously, as before) only when called. `from` is the
 * require in the dependency's source and `to` what replaces it; the build fails if an update of
 * the dependency changes that code.
 */
const lazyBundles = [
  {
    name: "ssh",
    entry: "node_modules/docker-modem/lib/ssh.js",
    file: /docker-modem[\\/]lib[\\/]modem\.js$/,
    from: "ssh = require('./ssh'),",
    to: "ssh = function () { return require(LAZY).apply(this, arguments); },",
  },
  {
    name: "session",
    entry: "node_modules/dockerode/lib/session.js",
    file: /dockerode[\\/]lib[\\/]docker\.js$/,
    from: "withSession = require('./session'),",
    to: "withSession = function () { return require(LAZY).apply(this, arguments); },",
  },
  {
    name: "buildkit",
    entry: "node_modules/dockerode/lib/buildkit.js",
    file: /dockerode[\\/]lib[\\/]docker\.js$/,
    from: "var buildkit = require('./buildkit');",
    to: "var buildkit = require(LAZY);",
  },
  {
    name: "tar-fs",
    entry: "node_modules/tar-fs/index.js",
    file: /dockerode[\\/]lib[\\/]util\.js$/,
    from: "var tar = require('tar-fs');",
    to: "var tar = { pack: function () { return require(LAZY).pack.apply(this, arguments); } };",
  },
];
// The rewritten code runs in a chunk in dist/chunks/, whose `require` (see the banner) resolves
// relative to that chunk.
const lazyPath = (name) => `../lazy/${name}.cjs`;

const lazyRequirePlugin = {
  name: "lazy-require",
  setup(b) {
    for (const source of new Set(lazyBundles.map((l) => l.file.source))) {
      const rules = lazyBundles.filter((l) => l.file.source === source);
      b.onLoad({ filter: rules[0].file }, async (args) => {
        let text = await readFile(args.path, "utf8");
        for (const { name, from, to } of rules) {
          if (!text.includes(from)) throw new Error(`${args.path} no longer contains "${from}": update lazyBundles in scripts/build.mjs`);
          text = text.replace(from, to.replace("LAZY", JSON.stringify(lazyPath(name))));
        }
        return { contents: text, loader: "js" };
      });
    }
  },
};

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
// Build beside dist/ and swap it in, so a CLI started meanwhile never sees a half-written dist/.
const out = new URL(`../dist.build-${process.pid}`, import.meta.url);
const dist = new URL("../dist", import.meta.url);
const old = new URL(`../dist.old-${process.pid}`, import.meta.url);
rmSync(out, { recursive: true, force: true });
// cpu-features and the native parts of ssh2 are optional helpers, loaded in try/catch.
const optionalNative = ["cpu-features", "*.node"];
/**
 * jsonc-parser's `main` is a UMD build whose factory requires its own files (`./impl/format`…) at
 * run time, which esbuild cannot follow: bundled, it fails with "Cannot find module". Its ESM
 * build (`module`) bundles like any other; only this package is pointed at it, so the other
 * dependencies keep the build they were tested with.
 */
const alias = { "jsonc-parser": "./node_modules/jsonc-parser/lib/esm/main.js" };
const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  minify: process.env.CILO_BUILD_DEBUG !== "1",
  legalComments: "none",
  logLevel: "warning",
  alias,
};
const lazy = await build({
  ...common,
  entryPoints: Object.fromEntries(lazyBundles.map((l) => [l.name, l.entry])),
  outdir: new URL("lazy", `${out.href}/`).pathname,
  outExtension: { ".js": ".cjs" },
  format: "cjs",
  metafile: true,
  external: optionalNative,
});
const result = await build({
  ...common,
  entryPoints: { cilo: "src/main.ts" },
  outdir: out.pathname,
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
  format: "esm",
  metafile: true,
  external: [...optionalNative, ...lazyBundles.map((l) => lazyPath(l.name))],
  plugins: [lazyRequirePlugin],
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
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  const rewritten = Object.keys(output.inputs).some((i) => lazyBundles.some((l) => l.file.test(i)));
  if (rewritten && !file.includes("/chunks/")) throw new Error(`${file} holds dockerode but is not in chunks/, so ${lazyPath("…")} would not resolve`);
}
writeFileSync(new URL("THIRD-PARTY-LICENSES.txt", `${out.href}/`), thirdPartyLicenses([lazy.metafile, result.metafile]));
if (existsSync(dist)) renameSync(dist, old);
renameSync(out, dist);
rmSync(old, { recursive: true, force: true });

/**
 * The bundle carries its dependencies' code (the package has no runtime dependencies), so it
 * carries their licences too: name, version, licence and licence text of every package bundled.
 */
function thirdPartyLicenses(metafiles) {
  const dirs = new Set();
  for (const meta of metafiles) {
    for (const input of Object.keys(meta.inputs)) {
      const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (m) dirs.add(m[1]);
    }
  }
  const entries = [...dirs].map((dir) => {
    const p = JSON.parse(readFileSync(`${dir}/package.json`, "utf8"));
    const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
    const text = file ? readFileSync(`${dir}/${file}`, "utf8").trim() : `${p.license ?? "no licence given"} (no licence file in the package)`;
    return { id: `${p.name}@${p.version}`, head: `${p.name} ${p.version} (${p.license ?? "unknown"})`, text };
  });
  const unique = [...new Map(entries.map((e) => [e.id, e])).values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  return `cilo bundles the following packages.\n\n${unique.map((e) => `${"-".repeat(78)}\n${e.head}\n\n${e.text}\n`).join("\n")}`;
}
