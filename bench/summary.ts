// The final table of bench/run: every row the benchmarks wrote to $CILO_BENCH_OUT, under a line
// saying which machine measured them.
//   node --import tsx bench/summary.ts <rows.jsonl>
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { formatTable, type CollectedRow } from "./lib.ts";

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim().split("\n")[0]! : `${cmd}: not available`;
}

const file = process.argv[2];
if (!file) throw new Error("usage: bench/summary.ts <rows.jsonl>");
const rows = readFileSync(file, "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as CollectedRow);
const machine = [
  `${cpus().length} cores (${cpus()[0]?.model.trim() ?? "unknown CPU"}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
  `Node ${process.version}`,
  firstLine("deno", ["--version"]).replace(/ \(.*/, ""),
  `Docker engine ${firstLine("docker", ["version", "--format", "{{.Server.Version}}"])}`,
  firstLine("docker-compose", ["version", "--short"]).replace(/^/, "docker-compose "),
  `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
].join(" · ");
const missed = rows.filter((r) => r.target !== "report" && !r.ok);
console.log(`\n${"=".repeat(20)} cilo benchmarks: ${machine}`);
console.log(formatTable(rows));
console.log(
  `\n${rows.length} figures, ${rows.filter((r) => r.target !== "report").length} with a target, ${missed.length} missed${missed.length ? `: ${missed.map((r) => r.what).join("; ")}` : ""}`,
);
