import type { RuntimeProvider } from "./provider.ts";

/** How many lines of a failed container's output an error message shows. */
export const LAST_LOG_LINES = 10;

/**
 * The last lines of a container's output for an error message, `; last log lines:` and the lines
 * indented by two spaces; "" when it wrote nothing or its output cannot be read. The one place
 * that picks, reads and lays out those lines (`cilo up --wait`, workflow `wait:` steps).
 */
export async function lastLogLines(provider: RuntimeProvider, containerId: string, n = LAST_LOG_LINES): Promise<string> {
  const text = await provider.logs(containerId, n).catch(() => "");
  const lines = lastLines(text, n);
  return lines.length > 0 ? `; last log lines:\n${lines.map((l) => `  ${l}`).join("\n")}` : "";
}

/** The last `n` lines of `text`, trailing white space left out; none for empty text. */
export function lastLines(text: string, n: number): string[] {
  const trimmed = text.trimEnd();
  return trimmed === "" || n <= 0 ? [] : trimmed.split("\n").slice(-n);
}
