import { randomBytes } from "node:crypto";
import { CiloError } from "../core/errors.ts";

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Reads what a step wrote to `$CILO_OUTPUT`, in GitHub's `GITHUB_OUTPUT` format: `key=value`
 * lines, and `key<<DELIMITER` … `DELIMITER` for values of several lines. Blank lines are ignored;
 * a later value of a key wins. Throws `E_STEP_OUTPUT` naming the line that is neither.
 */
export function parseStepOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    const eq = line.indexOf("=");
    if (heredoc && (eq < 0 || eq > line.indexOf("<<"))) {
      const key = checkKey(heredoc[1]!, i);
      const delimiter = heredoc[2]!;
      const end = lines.indexOf(delimiter, i + 1);
      if (end < 0) throw invalid(`the value of "${key}" started on line ${i + 1} never ends with a line "${delimiter}"`);
      out[key] = lines.slice(i + 1, end).join("\n");
      i = end;
    } else if (eq > 0) {
      out[checkKey(line.slice(0, eq), i)] = line.slice(eq + 1);
    } else {
      throw invalid(`line ${i + 1} is neither key=value nor key<<DELIMITER: ${JSON.stringify(line.slice(0, 60))}`);
    }
  }
  return out;
}

/** Outputs as `GITHUB_OUTPUT` lines: `key=value`, or a heredoc with a random delimiter for multi-line values. */
export function formatStepOutputs(outputs: Record<string, string>): string {
  return Object.entries(outputs)
    .map(([key, value]) => {
      if (!value.includes("\n") && !value.includes("\r")) return `${key}=${value}\n`;
      const delimiter = `ghadelimiter_${randomBytes(8).toString("hex")}`;
      return `${key}<<${delimiter}\n${value}\n${delimiter}\n`;
    })
    .join("");
}

function checkKey(raw: string, index: number): string {
  const key = raw.trim();
  if (!KEY.test(key)) throw invalid(`line ${index + 1} names the output ${JSON.stringify(key)}; use letters, digits, _ and -`);
  return key;
}

function invalid(why: string): CiloError {
  return new CiloError("E_STEP_OUTPUT", `The step's $CILO_OUTPUT file cannot be read: ${why}`);
}
