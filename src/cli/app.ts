import { cac, type CAC } from "cac";
import type { CiloContext } from "../core/context/context.ts";
import { usageError } from "../core/errors.ts";
import { ciloVersion } from "../version.ts";
import { registerCommands } from "./commands.ts";

export interface Cli {
  run(argv: string[]): Promise<number>;
}

/** Builds the cac program over `ctx`. Command modules are imported only when their command runs. */
export function buildCli(ctx: CiloContext): Cli {
  return {
    async run(argv: string[]): Promise<number> {
      const cli: CAC = cac("cilo");
      let result: Promise<number> | number | undefined;
      registerCommands(ctx, cli, (p) => {
        result = p;
      });
      cli.help();
      cli.version(ciloVersion());
      const parsed = cli.parse(["node", "cilo", ...passthrough(argv)], { run: false });
      if (parsed.options["help"] || (parsed.options["version"] && !cli.matchedCommand)) return 0;
      if (!cli.matchedCommand) {
        if (argv.length === 0) {
          cli.outputHelp();
          return 0;
        }
        const first = parsed.args[0] ?? argv[0] ?? "";
        if (first.startsWith("-")) throw usageError(`Unknown option "${first}"`, "Run cilo --help to see the options");
        throw usageError(`Unknown command "${first}"`, "Run cilo --help to see the commands");
      }
      cli.runMatchedCommand();
      return (await result) ?? 0;
    },
  };
}

/**
 * Commands that run another program take its arguments verbatim after their own positionals:
 * `cilo exec <env> <service> sh -c "…"` must not read `-c` as a cilo option. A `--` is inserted
 * where the passthrough begins (unless the user wrote one).
 */
const PASSTHROUGH: Record<string, { positionals: number; valueOptions: string[] }> = {
  exec: { positionals: 2, valueOptions: ["--user", "--workdir", "--project"] },
};

export function passthrough(argv: string[]): string[] {
  const spec = PASSTHROUGH[argv[0] ?? ""];
  if (!spec || argv.includes("--")) return argv;
  let seen = 0;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (seen === spec.positionals) return [...argv.slice(0, i), "--", ...argv.slice(i)];
    if (a.startsWith("-")) {
      if (spec.valueOptions.includes(a)) i++;
      continue;
    }
    seen++;
  }
  return argv;
}
