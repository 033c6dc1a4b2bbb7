const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** Text without terminal escape sequences (colours, cursor movement), for logs and reports. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}
