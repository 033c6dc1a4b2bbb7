import { ERROR_CODES, type ErrorCode } from "./error-codes.ts";

export type { ErrorCode } from "./error-codes.ts";

/** Exit codes of SPEC §6. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  prerequisite: 3,
  interrupted: 130,
  terminated: 143,
} as const;

export interface CiloErrorOptions {
  exitCode?: number;
  hint?: string;
  cause?: unknown;
}

/**
 * The one error type cilo throws on purpose. `code` is stable (one of ERROR_CODES in
 * error-codes.ts, whose exit class is the default exit code), `message` is one sentence saying
 * what is wrong, `hint` (optional) what to do. Printed once, at the CLI boundary.
 */
export class CiloError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: CiloErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CiloError";
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode[ERROR_CODES[code].exit];
    if (options.hint !== undefined) this.hint = options.hint;
  }
}

/** Bad usage or invalid input: exit 2. */
export function usageError(message: string, hint?: string): CiloError {
  return new CiloError("E_USAGE", message, { exitCode: ExitCode.usage, ...(hint ? { hint } : {}) });
}

/** A prerequisite is missing (Docker, compose, dnsmasq, init): exit 3. */
export function prerequisiteError(code: ErrorCode, message: string, hint?: string, cause?: unknown): CiloError {
  return new CiloError(code, message, { exitCode: ExitCode.prerequisite, ...(hint ? { hint } : {}), cause });
}

export function isCiloError(e: unknown): e is CiloError {
  return e instanceof CiloError;
}

/** The message of any thrown value, for wrapping foreign errors. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
