import { readFileSync } from "node:fs";

/** A text file's content, or undefined when it cannot be read (missing, unreadable). */
export function readTextIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
