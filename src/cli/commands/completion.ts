import type { CAC } from "cac";
import { usageError } from "../../core/errors.ts";
import { type CompletionModel, renderCompletion, SHELLS, type Shell } from "../completion.ts";

/** Fixed first words of commands that take an action (`cilo dns <action>`, …), from their descriptions. */
const ACTION_WORDS: Record<string, string[]> = {
  dns: ["status", "start", "stop", "render", "setup", "teardown"],
  hostnames: ["list", "add", "remove", "set"],
  shared: ["list", "down"],
  workflow: ["new", "validate", "list-templates"],
  completion: [...SHELLS],
};

/** The completion model of the cac program: every command, its long options, what its first positional is. */
export function completionModel(cli: CAC): CompletionModel {
  return {
    commands: cli.commands
      .filter((c) => c.name !== "")
      .map((c) => {
        const words = ACTION_WORDS[c.name];
        return {
          name: c.name,
          options: c.options.flatMap((o) => o.rawName.split(/[ ,]+/).filter((f) => f.startsWith("--"))),
          envFirst: /^\S+ <env>/.test(c.rawName),
          ...(words ? { words } : {}),
        };
      }),
  };
}

/** `cilo completion bash|zsh|fish`: prints the script that completes commands, options and env names. */
export default async function completion(cli: CAC, shell: string): Promise<number> {
  if (!(SHELLS as readonly string[]).includes(shell)) throw usageError(`No completion for the shell "${shell}"`, `Use one of: ${SHELLS.join(", ")}`);
  process.stdout.write(renderCompletion(shell as Shell, completionModel(cli)));
  return 0;
}
