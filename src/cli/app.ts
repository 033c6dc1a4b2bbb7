import { cac, type CAC } from "cac";
import type { CiloContext } from "../core/context/context.ts";
import { usageError } from "../core/errors.ts";
import { didYouMean } from "../core/suggest.ts";
import { helpEpilogue, withoutNegatedDefaults } from "./help.ts";
import { ciloVersion } from "../version.ts";
import { registerCommands } from "./commands.ts";
import type { EarlyStart } from "./early-start.ts";

export interface Cli {
  run(argv: string[]): Promise<number>;
}

/**
 * Builds the cac program over `ctx`. Command modules are imported only when their command runs.
 * `early`: what the entry began of an `up`/`sync` line before this module loaded (early-start.ts),
 * handed to that command.
 */
export function buildCli(ctx: CiloContext, early?: EarlyStart): Cli {
  return {
    async run(argv: string[]): Promise<number> {
      const cli: CAC = cac("cilo");
      let result: Promise<number> | number | undefined;
      registerCommands(
        ctx,
        cli,
        (p) => {
          result = p;
        },
        argv[0],
        early,
      );
      cli.help((sections) => {
        for (const s of sections) if (s.title === "Options") s.body = withoutNegatedDefaults(s.body);
        // The whole-program help (no command matched) ends with exit codes, environment and docs.
        if (!cli.matchedCommand) sections.push({ body: helpEpilogue() });
        return sections;
      });
      cli.version(ciloVersion());
      const parsed = cli.parse(["node", "cilo", ...passthrough(argv)], { run: false });
      if (parsed.options["help"] || (parsed.options["version"] && !cli.matchedCommand)) return 0;
      if (!cli.matchedCommand) {
        if (argv.length === 0) {
          cli.outputHelp();
          return 0;
        }
        const first = parsed.args[0] ?? argv[0] ?? "";
        if (first.startsWith("-"))
          throw usageError(`Unknown option "${first}"${didYouMean(first, ["--help", "--version"])}`, "Run cilo --help to see the options");
        throw usageError(
          `Unknown command "${first}"${didYouMean(
            first,
            cli.commands.map((c) => c.name),
          )}`,
          "Run cilo --help to see the commands",
        );
      }
      const command = cli.matchedCommand;
      try {
        cli.runMatchedCommand();
      } catch (e) {
        // cac: "Unknown option `--wiat`": name the option the user probably meant.
        const unknown = e instanceof Error && e.name === "CACError" ? /^Unknown option `([^`]+)`/.exec(e.message) : null;
        if (!unknown) throw e;
        const flags = [...command.options, ...cli.globalCommand.options].map((o) => o.rawName.split(/[ ,]/)[0]!).filter((f) => f.startsWith("--"));
        throw usageError(`Unknown option "${unknown[1]}"${didYouMean(unknown[1]!, flags)}`, `Run cilo ${command.name} --help to see its options`);
      }
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
  compose: { positionals: 1, valueOptions: ["--project"] },
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
