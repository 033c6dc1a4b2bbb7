/** What shell completion needs to know of the command line, read from the cac definitions. */
export interface CompletionModel {
  commands: {
    name: string;
    /** Long options, with the leading `--` (negated ones as `--no-x`). */
    options: string[];
    /** Whether the first positional is an env (`<env>`): completed from `cilo list --format quiet`. */
    envFirst: boolean;
    /** Fixed words for the first positional (e.g. `dns <action>`), when the command has them. */
    words?: string[];
  }[];
}

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

/** A command name, option or word as it may appear in a completion script: nothing a shell would expand. */
function safe(word: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:/-]*$|^--?[A-Za-z0-9][A-Za-z0-9-]*$/.test(word)) throw new Error(`Not a completion word: ${JSON.stringify(word)}`);
  return word;
}

/** The completion script for `shell` (pure: the same model gives the same bytes). */
export function renderCompletion(shell: Shell, model: CompletionModel): string {
  switch (shell) {
    case "bash":
      return bash(model);
    case "zsh":
      return `#compdef cilo\n# cilo completion for zsh: cilo completion zsh > "\${fpath[1]}/_cilo" (or eval "$(cilo completion zsh)" in ~/.zshrc)\nautoload -U +X bashcompinit && bashcompinit\n${bash(model, false)}`;
    case "fish":
      return fish(model);
  }
}

function bash(model: CompletionModel, header = true): string {
  const names = model.commands.map((c) => safe(c.name));
  const optionCases = model.commands.map((c) => `    ${safe(c.name)}) opts="${[...c.options.map(safe), "--help"].join(" ")}" ;;`);
  const envCommands = model.commands.filter((c) => c.envFirst).map((c) => safe(c.name));
  const wordCases = model.commands.filter((c) => c.words && c.words.length > 0).map((c) => `    ${safe(c.name)}) words="${c.words!.map(safe).join(" ")}" ;;`);
  return [
    ...(header
      ? ["# cilo completion for bash: source <(cilo completion bash) in ~/.bashrc, or save it as", "# ~/.local/share/bash-completion/completions/cilo"]
      : []),
    "_cilo() {",
    '  local cur="${COMP_WORDS[COMP_CWORD]}" cmd="${COMP_WORDS[1]}" opts="" words=""',
    '  if [ "$COMP_CWORD" -eq 1 ]; then',
    `    COMPREPLY=($(compgen -W "${names.join(" ")} --help --version" -- "$cur"))`,
    "    return",
    "  fi",
    '  if [[ "$cur" == -* ]]; then',
    '    case "$cmd" in',
    ...optionCases,
    "    esac",
    '    COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
    "    return",
    "  fi",
    '  if [ "$COMP_CWORD" -eq 2 ]; then',
    '    case "$cmd" in',
    ...(envCommands.length > 0 ? [`    ${envCommands.join("|")}) words="$(cilo list --format quiet 2>/dev/null)" ;;`] : []),
    ...wordCases,
    "    esac",
    '    if [ -n "$words" ]; then',
    '      COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    "      return",
    "    fi",
    "  fi",
    '  COMPREPLY=($(compgen -f -- "$cur"))',
    "}",
    "complete -o default -F _cilo cilo",
    "",
  ].join("\n");
}

function fish(model: CompletionModel): string {
  const names = model.commands.map((c) => safe(c.name));
  const lines = [
    "# cilo completion for fish: cilo completion fish > ~/.config/fish/completions/cilo.fish",
    "complete -c cilo -f",
    `complete -c cilo -n __fish_use_subcommand -a "${names.join(" ")}"`,
  ];
  for (const c of model.commands) {
    const when = `"__fish_seen_subcommand_from ${safe(c.name)}"`;
    for (const o of c.options) lines.push(`complete -c cilo -n ${when} -l ${safe(o).replace(/^--/, "")}`);
    if (c.envFirst) lines.push(`complete -c cilo -n ${when} -a "(cilo list --format quiet 2>/dev/null)"`);
    if (c.words && c.words.length > 0) lines.push(`complete -c cilo -n ${when} -a "${c.words.map(safe).join(" ")}"`);
    if (!c.envFirst && !c.words) lines.push(`complete -c cilo -n ${when} -F`);
  }
  return `${lines.join("\n")}\n`;
}
