import type { CAC } from "cac";

type Sink = (p: Promise<number>) => void;
type Action = (...args: any[]) => Promise<number>;

/** Wraps a lazily imported command so heavy modules load only when that command runs. */
function lazy(sink: Sink, load: () => Promise<{ default: Action }>): (...args: any[]) => void {
  return (...args: any[]) => {
    sink(load().then((m) => m.default(...args)));
  };
}

/** Every command of SPEC §6 that cilo has, with its options and help. */
export function registerCommands(cli: CAC, sink: Sink): void {
  cli
    .command("init", "Create $CILO_HOME and its state (idempotent; flags change the settings)")
    .option("--subnet-pool <cidr>", "Pool env subnets come from (default 10.224.0.0/12)")
    .option("--subnet-size <prefix>", "Prefix length of one env's subnet (default 24)")
    .option("--dns-port <port>", "Loopback port of cilo's dnsmasq (default 5354)")
    .option("--dns-suffix <suffix>", "DNS suffix of env names (default .test)")
    .option("--json", "Print the settings as JSON")
    .action(lazy(sink, () => import("./commands/init.ts")));

  cli
    .command("create <env>", "Create an env: record it and allocate its subnet")
    .option("--project <name>", "Project name (default: from config or the folder name)")
    .option("--from <path>", "Project folder to create the env from (default: current folder)")
    .option("--json", "Print the env as JSON")
    .example("  $ cilo create feat-login --from ./my-app")
    .action(lazy(sink, () => import("./commands/create.ts")));

  cli
    .command("list", "List envs")
    .alias("ls")
    .option("--format <format>", "table, json or quiet (names only)", { default: "table" })
    .option("--json", "Same as --format json")
    .option("--project <name>", "Only envs of this project")
    .action(lazy(sink, () => import("./commands/list.ts")));

  cli
    .command("destroy <env>", "Destroy an env and release its subnet")
    .option("--force", "Do not ask; a missing env is not an error")
    .option("--keep-workspace", "Keep the workspace folder")
    .option("--project <name>", "Project of the env")
    .action(lazy(sink, () => import("./commands/destroy.ts")));
}
