// Preloaded into a cilo process by bench/state.ts (NODE_OPTIONS=--require): at exit, appends the
// process's own CPU time (user + system, ms; children such as compose are not counted) to
// $CILO_BENCH_CPU_OUT, one number a line.
const out = process.env.CILO_BENCH_CPU_OUT;
if (out) {
  process.on("exit", () => {
    const u = process.cpuUsage();
    require("node:fs").appendFileSync(out, `${(u.user + u.system) / 1000}\n`);
  });
}
