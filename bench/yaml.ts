// The rendered compose file's YAML at 500 services (issue 16 item 5): cilo's writer
// (src/core/compose/compose-yaml.ts) against JSON.stringify of the same model, in the same
// process, alternated, median of N. The model is transformCompose's real output for a generated
// project of 500 services (labels, networks, environment, volumes, health checks). Also the first
// call in a fresh process (what one `cilo up` that renders pays), and the `yaml` library's own
// writer with the options cilo used before, as a reference. Each call is timed until its text is
// one flat string (what writing the file needs): a string built by concatenation is a tree that V8
// flattens on first read, work the call would otherwise hand on untimed. The warm calls are also
// timed in CPU time (process.cpuUsage: all threads, so GC helpers count), which moves far less
// than wall time when other work shares the machine: a 2 ms call is preempted more often than a
// 1 ms one.
//   node --import tsx bench/yaml.ts [--runs 41] [--services 500]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Document } from "yaml";
import { stringifyComposeYaml } from "../src/core/compose/compose-yaml.ts";
import { transformCompose } from "../src/core/compose/transform.ts";
import { median, numberArg, printTable, type Row } from "./lib.ts";

const RUNS = numberArg("--runs", 41);
const SERVICES = numberArg("--services", 500);
const TARGET = 3;

function project(n: number): Record<string, unknown> {
  const services: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    services[`svc-${i}`] = {
      image: "cilo-test/busybox:latest",
      command: ["sh", "-c", `echo ${i} && sleep 600`],
      environment: { MODE: "on", PORT: "8080", NAME: `svc-${i}`, URL: `http://svc-${(i + 1) % n}:8080/` },
      labels: { "cilo.port": "8080", "com.example.team": "shop" },
      volumes: [`./data/${i}:/data:ro`],
      depends_on: i > 0 ? [`svc-${i - 1}`] : [],
      healthcheck: { test: ["CMD", "wget", "-q", "-O", "-", "http://localhost:8080/"], interval: "1s", retries: 30 },
    };
  }
  return { services, volumes: { shared: {} } };
}

const { model } = transformCompose({
  model: project(SERVICES),
  project: "bench",
  env: "yaml",
  home: { id: "benchhome", path: "/tmp/cilo-bench-yaml" },
  dockerName: "cilo_bench_yaml",
  subnet: "10.251.0.0/24",
});

/** The `yaml` library with the options cilo's writer used until it was replaced (for reference). */
function yamlLibrary(m: unknown): string {
  return new Document(m, { version: "1.1", sortMapEntries: true, aliasDuplicateObjects: false }).toString({ lineWidth: 0 });
}

/** Reading a character of a concatenated string makes V8 flatten it; a flat one costs nothing. */
function flat(text: string): string {
  text.charCodeAt(text.length >> 1);
  return text;
}

/** Wall time and CPU time (user + system of the process, all its threads) of one call, in ms. */
function timeOne(f: () => string, wall: number[], cpu: number[]): void {
  const c = process.cpuUsage();
  const s = performance.now();
  flat(f());
  wall.push(performance.now() - s);
  const d = process.cpuUsage(c);
  cpu.push((d.user + d.system) / 1000);
}

// First call in a fresh process: no warm-up, the code not yet optimised by the JIT. The model
// goes through a file (too long for a command line).
const modelFile = join(mkdtempSync(join(tmpdir(), "cilo-bench-yaml-")), "model.json");
writeFileSync(modelFile, JSON.stringify(model));
function coldMs(which: "cilo" | "json" | "yaml"): number {
  const writer = new URL("../src/core/compose/compose-yaml.ts", import.meta.url).href;
  const call = {
    cilo: "stringifyComposeYaml(m)",
    json: "JSON.stringify(m)",
    yaml: 'new Document(m, { version: "1.1", sortMapEntries: true, aliasDuplicateObjects: false }).toString({ lineWidth: 0 })',
  }[which];
  const code = `
    const { stringifyComposeYaml } = await import(${JSON.stringify(writer)});
    const { Document } = await import("yaml");
    const m = JSON.parse((await import("node:fs")).readFileSync(${JSON.stringify(modelFile)}, "utf8"));
    const s = performance.now(); const t = ${call}; t.charCodeAt(t.length >> 1); console.log(performance.now() - s);`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    encoding: "utf8",
    cwd: new URL("..", import.meta.url).pathname,
  });
  if (r.status !== 0) throw new Error(`cold run failed (${r.status}): ${r.stderr}`);
  return Number(r.stdout.trim());
}

const text = stringifyComposeYaml(model);
console.log(`${SERVICES} services: ${(text.length / 1024).toFixed(0)} KiB of YAML, ${(JSON.stringify(model).length / 1024).toFixed(0)} KiB of JSON`);
for (let i = 0; i < 20; i++) {
  stringifyComposeYaml(model);
  JSON.stringify(model);
}
const cilo: number[] = [];
const json: number[] = [];
const lib: number[] = [];
const ciloCpu: number[] = [];
const jsonCpu: number[] = [];
const libCpu: number[] = [];
for (let i = 0; i < RUNS; i++) {
  timeOne(() => stringifyComposeYaml(model), cilo, ciloCpu);
  timeOne(() => JSON.stringify(model), json, jsonCpu);
  if (i < 9) timeOne(() => yamlLibrary(model), lib, libCpu);
}
const cold = { cilo: [] as number[], json: [] as number[], yaml: [] as number[] };
for (let i = 0; i < 3; i++) for (const k of ["cilo", "json", "yaml"] as const) cold[k].push(coldMs(k));
rmSync(dirname(modelFile), { recursive: true, force: true });

const rows: Row[] = [
  {
    what: `compose YAML, ${SERVICES} services (warm)`,
    value: median(cilo),
    unit: "ms",
    versus: "JSON.stringify, same model",
    base: median(json),
    target: `≤ ${TARGET}×`,
    ok: median(cilo) <= TARGET * median(json),
  },
  {
    what: `compose YAML, ${SERVICES} services (warm, CPU time)`,
    value: median(ciloCpu),
    unit: "ms",
    versus: "JSON.stringify, CPU time",
    base: median(jsonCpu),
    target: "report",
    ok: true,
  },
  {
    what: `compose YAML, ${SERVICES} services (first call)`,
    value: median(cold.cilo),
    unit: "ms",
    versus: "JSON.stringify, first call",
    base: median(cold.json),
    target: "report",
    ok: true,
  },
  {
    what: `yaml library's writer, ${SERVICES} services (warm)`,
    value: median(lib),
    unit: "ms",
    versus: "cilo's writer, same model",
    base: median(cilo),
    target: "report",
    ok: true,
  },
  {
    what: `yaml library's writer, ${SERVICES} services (first call)`,
    value: median(cold.yaml),
    unit: "ms",
    versus: "cilo's writer, first call",
    base: median(cold.cilo),
    target: "report",
    ok: true,
  },
];
printTable(`compose YAML writer (median of ${RUNS} alternated runs; first call: median of 3 processes)`, rows);
