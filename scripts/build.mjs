// Bundles the CLI for fast start-up: dist/cilo.mjs is the entry; heavy modules (dockerode, listr2,
// yaml) land in chunks under dist/chunks/ that load only when a command needs them, and the
// parts of dockerode that cilo rarely or never uses in dist/lazy/ (see lazyBundles). The workflow
// schema's validator is generated here (see workflowValidatorPlugin), so ajv's compiler is not in
// the bundle.
//   node scripts/build.mjs                              dist/
//   node scripts/build.mjs --out dist.bench-x [--runtime-ajv] [--eager-dockerode]
//       a variant for bench/build.ts: into another folder at the repository's top (so that
//       dist.bench-x/chunks/../../schema is still schema/), compiling the workflow schema with
//       ajv at run time, or with dockerode bundled whole (no lazyBundles)
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const { values: args } = parseArgs({
  options: {
    out: { type: "string", default: "dist" },
    "runtime-ajv": { type: "boolean", default: false },
    "eager-dockerode": { type: "boolean", default: false },
  },
});
if (!/^dist(\.bench-[a-z0-9-]+)?$/.test(args.out)) throw new Error(`--out ${args.out}: expected dist or dist.bench-<name>`);

/**
 * dockerode requires ssh2 (for ssh:// hosts), gRPC and protobufjs (for BuildKit sessions and
 * progress) and tar-fs (for build contexts) when it loads: three quarters of its bundled code,
 * which every command that talks to Docker would parse and run. Each becomes a CommonJS bundle of
 * its own in dist/lazy/, required (synchronously, as before) only when called. `from` is the
 * require in `source` (under node_modules/) and `to` what replaces it. Measured by bench/build.ts
 * against dockerode bundled whole (`--eager-dockerode`): `cilo status <env>` 711 ms vs 1111 ms
 * (median of 15, quartiles apart); commands that do not talk to Docker do not load it either way.
 */
const lazyBundles = [
  {
    name: "ssh",
    entry: "node_modules/docker-modem/lib/ssh.js",
    source: "docker-modem/lib/modem.js",
    from: "ssh = require('./ssh'),",
    to: "ssh = function () { return require(LAZY).apply(this, arguments); },",
  },
  {
    name: "session",
    entry: "node_modules/dockerode/lib/session.js",
    source: "dockerode/lib/docker.js",
    from: "withSession = require('./session'),",
    to: "withSession = function () { return require(LAZY).apply(this, arguments); },",
  },
  {
    name: "buildkit",
    entry: "node_modules/dockerode/lib/buildkit.js",
    source: "dockerode/lib/docker.js",
    from: "var buildkit = require('./buildkit');",
    to: "var buildkit = require(LAZY);",
  },
  {
    name: "tar-fs",
    entry: "node_modules/tar-fs/index.js",
    source: "dockerode/lib/util.js",
    from: "var tar = require('tar-fs');",
    to: "var tar = { pack: function () { return require(LAZY).pack.apply(this, arguments); } };",
  },
];
/**
 * The exact versions lazyBundles was written for (package-lock.json pins them). Another version
 * fails the build with one line until each `from` has been checked against its code and this
 * table updated: a silent miss would bundle the heavy modules again, or break `require`.
 */
const patchedVersions = { dockerode: "4.0.12", "docker-modem": "5.0.7", "tar-fs": "2.1.5" };
const modules = new URL("../node_modules/", import.meta.url);
/** node_modules/<source> as the regular expression esbuild's onLoad filters on. */
const sourceFilter = (source) =>
  new RegExp(
    `node_modules[\\\\/]${source
      .split("/")
      .map((p) => p.replace(/[.]/g, "\\."))
      .join("[\\\\/]")}$`,
  );

function checkPatchedDependencies() {
  const problems = [];
  for (const [name, want] of Object.entries(patchedVersions)) {
    const have = JSON.parse(readFileSync(new URL(`${name}/package.json`, modules), "utf8")).version;
    if (have !== want) problems.push(`${name} is ${have}, not ${want}`);
  }
  for (const l of lazyBundles) {
    if (!readFileSync(new URL(l.source, modules), "utf8").includes(l.from)) problems.push(`node_modules/${l.source} no longer contains "${l.from}"`);
  }
  if (problems.length > 0) {
    console.error(
      `scripts/build.mjs: the dockerode patch (lazyBundles) does not fit node_modules: ${problems.join("; ")}; check each "from" against the new code, then update lazyBundles and patchedVersions`,
    );
    process.exit(1);
  }
}

// The rewritten code runs in a chunk in dist/chunks/, whose `require` (see the banner) resolves
// relative to that chunk.
const lazyPath = (name) => `../lazy/${name}.cjs`;

const lazyRequirePlugin = {
  name: "lazy-require",
  setup(b) {
    for (const source of new Set(lazyBundles.map((l) => l.source))) {
      const rules = lazyBundles.filter((l) => l.source === source);
      b.onLoad({ filter: sourceFilter(source) }, async (args) => {
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

/**
 * `src/workflow/schema-validator.ts` compiles the workflow JSON Schema with ajv on first use, which
 * costs every `cilo run` and `cilo workflow validate` about 80 ms of CPU. In the bundle that module
 * is replaced by ajv's standalone code for the same schema, compiled by the module's own
 * `compileWorkflowSchema` (so with the same options), plus the same exports: esbuild fails the
 * build if validate.ts imports a name the replacement lacks.
 */
const workflowValidatorPlugin = {
  name: "workflow-validator",
  setup(b) {
    b.onLoad({ filter: /src[\\/]workflow[\\/]schema-validator\.ts$/ }, async (args) => {
      const { tsImport } = await import("tsx/esm/api");
      const source = await tsImport(args.path, import.meta.url);
      const { ajv, validate } = source.compileWorkflowSchema({ code: { source: true, esm: true } });
      const { default: standaloneCode } = await import("ajv/dist/standalone/index.js");
      const generated = standaloneCode(ajv, validate);
      return {
        contents: [
          "// Generated by scripts/build.mjs from schema/cilo.workflow.schema.json with ajv's standalone code.",
          generated,
          `export function workflowSchemaValidator() { return validate; }`,
          `export function workflowSchemaUrl() { return new URL("../../schema/cilo.workflow.schema.json", import.meta.url); }`,
        ].join("\n"),
        loader: "js",
      };
    });
  },
};

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
// Build beside dist/ and swap it in, so a CLI started meanwhile never sees a half-written dist/.
const out = new URL(`../dist.build-${process.pid}`, import.meta.url);
/**
 * Put on top of every output file: CommonJS dependencies (dockerode → ssh2) expect require,
 * __filename and __dirname. Line 0 is the shebang; the others are dropped by `trimBanners` from
 * files that do not use what they define.
 */
const BANNER = [
  "#!/usr/bin/env node",
  "import { createRequire as __ciloCreateRequire } from 'node:module';",
  "import { fileURLToPath as __ciloFileURLToPath } from 'node:url';",
  "import { dirname as __ciloDirname } from 'node:path';",
  "const require = __ciloCreateRequire(import.meta.url);",
  "const __filename = __ciloFileURLToPath(import.meta.url);",
  "const __dirname = __ciloDirname(__filename);",
];

/**
 * Keeps in each output file only the banner lines its code uses: `createRequire` and the URL-to-path
 * calls run when a module loads (about 0.5 M instructions per file, docs/performance.md), and
 * `cilo list` loads some twenty chunks that need none of them. A name found anywhere in the code,
 * strings included, keeps its lines: a false match only costs the time saved.
 */
function trimBanners(metafile) {
  const prefix = `${BANNER.join("\n")}\n`;
  for (const file of Object.keys(metafile.outputs)) {
    if (!file.endsWith(".mjs")) continue;
    const text = readFileSync(file, "utf8");
    if (!text.startsWith(prefix)) throw new Error(`scripts/build.mjs: ${file} does not start with the banner`);
    const code = text.slice(prefix.length);
    const uses = (name) => new RegExp(`(?<![\\w$])${name}(?![\\w$])`).test(code);
    const dirname = uses("__dirname");
    const filename = dirname || uses("__filename");
    const require = uses("require");
    const keep = [
      BANNER[0],
      require && BANNER[1],
      filename && BANNER[2],
      dirname && BANNER[3],
      require && BANNER[4],
      filename && BANNER[5],
      dirname && BANNER[6],
    ];
    writeFileSync(file, `${keep.filter(Boolean).join("\n")}\n${code}`);
  }
}

const dist = new URL(`../${args.out}`, import.meta.url);
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
const eager = args["eager-dockerode"];
if (!eager) checkPatchedDependencies();
const lazy = await build({
  ...common,
  entryPoints: eager ? {} : Object.fromEntries(lazyBundles.map((l) => [l.name, l.entry])),
  outdir: new URL("lazy", `${out.href}/`).pathname,
  outExtension: { ".js": ".cjs" },
  format: "cjs",
  metafile: true,
  external: optionalNative,
});
const result = await build({
  ...common,
  // The library (package.json exports ".") shares the CLI's chunks; the CLI's start-up loads none of it.
  entryPoints: { cilo: "src/main.ts", lib: "src/lib.ts" },
  outdir: out.pathname,
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
  format: "esm",
  metafile: true,
  external: [...optionalNative, ...(eager ? [] : lazyBundles.map((l) => lazyPath(l.name)))],
  plugins: [...(eager ? [] : [lazyRequirePlugin]), ...(args["runtime-ajv"] ? [] : [workflowValidatorPlugin])],
  define: { __CILO_VERSION__: JSON.stringify(pkg.version) },
  banner: { js: BANNER.join("\n") },
});
trimBanners(result.metafile);
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  const rewritten = Object.keys(output.inputs).some((i) => lazyBundles.some((l) => sourceFilter(l.source).test(i)));
  if (rewritten && !file.includes("/chunks/")) throw new Error(`${file} holds dockerode but is not in chunks/, so ${lazyPath("…")} would not resolve`);
}
writeFileSync(new URL("THIRD-PARTY-LICENSES.txt", `${out.href}/`), thirdPartyLicenses([lazy.metafile, result.metafile]));
// Which sources went into which chunk, for start-up work (docs/performance.md): CILO_BUILD_META=<file>.
if (process.env.CILO_BUILD_META) writeFileSync(process.env.CILO_BUILD_META, JSON.stringify(result.metafile));
await libraryDeclarations(out);
if (existsSync(dist)) renameSync(dist, old);
renameSync(out, dist);
rmSync(old, { recursive: true, force: true });

/**
 * dist/lib.d.ts, the library's types: tsc's declarations of src/lib.ts, and of only the files those
 * declarations import (not everything the code imports), under dist/types/, with the sources'
 * `.ts` import specifiers written as `.js` so that any consumer's module resolution finds the
 * `.d.ts` beside them. They import no package: the library's types need none installed.
 */
async function libraryDeclarations(outDir) {
  const { default: ts } = await import("typescript");
  const root = new URL("../", import.meta.url).pathname;
  const { config } = ts.readConfigFile(`${root}tsconfig.json`, ts.sys.readFile);
  const { options } = ts.convertCompilerOptionsFromJson(config.compilerOptions, root);
  const emitted = new Map();
  const program = ts.createProgram([`${root}src/lib.ts`], {
    ...options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    rootDir: `${root}src`,
    outDir: "/types",
  });
  const { diagnostics } = program.emit(undefined, (file, text) => emitted.set(file, text));
  if (diagnostics.length > 0)
    throw new Error(`scripts/build.mjs: declarations of src/lib.ts: ${ts.formatDiagnostics(diagnostics, ts.createCompilerHost(options))}`);
  const wanted = [];
  const todo = ["/types/lib.d.ts"];
  while (todo.length > 0) {
    const file = todo.pop();
    if (wanted.includes(file)) continue;
    const text = emitted.get(file);
    if (text === undefined) throw new Error(`scripts/build.mjs: no declarations for ${file}`);
    wanted.push(file);
    for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
      if (!spec.startsWith(".")) throw new Error(`scripts/build.mjs: the library's types import the package "${spec}" (${file}); they must stand alone`);
      todo.push(new URL(spec.replace(/\.ts$/, ".d.ts"), `file://${file}`).pathname);
    }
  }
  for (const file of wanted) {
    const target = new URL(`.${file}`, `${outDir.href}/`);
    mkdirSync(new URL(".", target), { recursive: true });
    writeFileSync(target, emitted.get(file).replace(/((?:from|import)\s*\(?\s*"\.[^"]*)\.ts"/g, '$1.js"'));
  }
  writeFileSync(new URL("lib.d.ts", `${outDir.href}/`), 'export * from "./types/lib.js";\n');
}

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
