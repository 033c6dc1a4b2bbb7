// Memory of 10 envs sharing one database vs 10 isolated copies (examples/shared), measured with
// `docker stats --no-stream` in the same run. Run: node --import tsx bench/shared.ts [--envs 10]
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { printTable, sh, type Row } from "./lib.ts";

const root = new URL("..", import.meta.url).pathname;
const i = process.argv.indexOf("--envs");
const N = i > 0 ? Number(process.argv[i + 1]) : 10;
const home = mkdtempSync(join(tmpdir(), "cilo-bench-shared-"));
const src = join(home, "src");
cpSync(join(root, "examples/shared"), src, { recursive: true });
const env = { ...process.env, CILO_HOME: home, CILO_SHARED_GRACE_MS: "0" };
const cilo = (...a: string[]) => sh(process.execPath, [join(root, "dist/cilo.mjs"), ...a], { env });

/** Sum of the memory of the containers with these labels, in MiB. */
function memoryMiB(...labels: string[]): { mib: number; containers: number } {
  const ids = execFileSync("docker", ["ps", "-q", ...labels.flatMap((l) => ["--filter", `label=${l}`])], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);
  if (ids.length === 0) return { mib: 0, containers: 0 };
  const out = execFileSync("docker", ["stats", "--no-stream", "--format", "{{.MemUsage}}", ...ids], { encoding: "utf8" });
  const unit: Record<string, number> = { B: 1 / 1048576, KiB: 1 / 1024, MiB: 1, GiB: 1024, kB: 1 / 1048.576, MB: 1 / 1.048576, GB: 953.67 };
  let total = 0;
  for (const line of out.split("\n").filter(Boolean)) {
    const m = /^([\d.]+)\s*([A-Za-z]+)/.exec(line.split("/")[0]!.trim());
    if (m) total += Number(m[1]) * (unit[m[2]!] ?? 1);
  }
  return { mib: total, containers: ids.length };
}

async function upAll(prefix: string, extra: string[]): Promise<string[]> {
  const names = Array.from({ length: N }, (_, k) => `${prefix}${k}`);
  for (const n of names) cilo("create", n, "--from", src);
  await Promise.all(
    names.map(
      (n) =>
        new Promise<void>((resolve, reject) => {
          const p = spawn(process.execPath, [join(root, "dist/cilo.mjs"), "up", `shared/${n}`, "--wait", ...extra], { env, stdio: "ignore" });
          p.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`up ${n} exited ${code}`))));
        }),
    ),
  );
  return names;
}

const rows: Row[] = [];
try {
  cilo("init", "--dns-port", String(20000 + Math.floor(Math.random() * 20000)));
  const shared = await upAll("s", []);
  await new Promise((r) => setTimeout(r, 3000));
  const a = memoryMiB("cilo.project=shared");
  for (const n of shared) cilo("destroy", `shared/${n}`, "--force");
  cilo("__shared-gc", "shared", "0");
  const isolated = await upAll("i", ["--isolate", "db"]);
  await new Promise((r) => setTimeout(r, 3000));
  const b = memoryMiB("cilo.project=shared");
  for (const n of isolated) cilo("destroy", `shared/${n}`, "--force");
  console.log(
    `${N} envs sharing db: ${a.containers} containers, ${a.mib.toFixed(1)} MiB; ${N} isolated copies: ${b.containers} containers, ${b.mib.toFixed(1)} MiB`,
  );
  rows.push({
    what: `memory of ${N} envs sharing one db (${a.containers} containers)`,
    value: a.mib,
    unit: "MiB",
    versus: `${N} isolated copies (${b.containers} containers)`,
    base: b.mib,
    target: "< 1×",
    ok: a.mib < b.mib,
  });
} finally {
  try {
    cilo("dns", "stop");
  } catch {
    /* not running */
  }
  rmSync(home, { recursive: true, force: true });
}
printTable("shared resources (docker stats, same run)", rows);
