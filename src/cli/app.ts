import { cac, type CAC } from "cac";
import { usageError } from "../core/errors.ts";
import { ciloVersion } from "../version.ts";
import { registerCommands } from "./commands.ts";

export interface Cli {
  run(argv: string[]): Promise<number>;
}

/** Builds the cac program. Command modules are imported only when their command runs. */
export function buildCli(): Cli {
  return {
    async run(argv: string[]): Promise<number> {
      if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
        process.stdout.write(`cilo ${ciloVersion()}\n`);
        return 0;
      }
      const cli: CAC = cac("cilo");
      let result: Promise<number> | number | undefined;
      registerCommands(cli, (p) => {
        result = p;
      });
      cli.help();
      cli.version(ciloVersion());
      const parsed = cli.parse(["node", "cilo", ...argv], { run: false });
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
