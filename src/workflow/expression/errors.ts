import { CiloError, ExitCode } from "../../core/errors.ts";

/**
 * A syntax, name or evaluation error in a `${{ }}` expression. `reason` is the bare explanation
 * ("unknown function "sucess" …"); `offset` is where it applies, 0-based in the text that was
 * parsed (the whole string value for templates and conditions).
 */
export class ExpressionError extends CiloError {
  readonly reason: string;
  readonly offset: number;

  constructor(reason: string, offset: number, source: string) {
    const lineStart = source.lastIndexOf("\n", offset - 1) + 1;
    const lineEnd = source.indexOf("\n", offset);
    const line = source.slice(lineStart, lineEnd < 0 ? source.length : lineEnd);
    const shown = line.length > 80 ? `${line.slice(0, 77)}...` : line;
    super("E_EXPRESSION", `Expression error at column ${offset - lineStart + 1} of "${shown}": ${reason}`, {
      exitCode: ExitCode.usage,
    });
    this.name = "ExpressionError";
    this.reason = reason;
    this.offset = offset;
  }
}
