import { CiloError, ExitCode, type ErrorCode } from "../errors.ts";

/**
 * The file-system faults that are the machine's, not cilo's: a full disk, a used-up quota, a
 * read-only mount, missing permission. Each gets its own words naming the file and what to do.
 */
const FAULTS: Record<string, { why: string; hint: string }> = {
  ENOSPC: { why: "the disk holding it is full (ENOSPC)", hint: "Free space on that disk, then run the command again" },
  EDQUOT: { why: "the disk quota for this user is used up (EDQUOT)", hint: "Free space within the quota (or have it raised), then run the command again" },
  EROFS: {
    why: "its file system is mounted read-only (EROFS)",
    hint: "Remount it read-write, or point CILO_HOME at a writable folder, then run the command again",
  },
  EACCES: { why: "permission denied (EACCES)", hint: "Run cilo as the user who owns that folder, or fix its permissions" },
  EPERM: { why: "the operation is not permitted (EPERM)", hint: "Run cilo as the user who owns that folder, or fix its permissions" },
};

const VERBS: Record<string, string> = { connect: "connect to", read: "read", readdir: "read", scandir: "read", stat: "read", lstat: "read", mkdir: "create" };

/**
 * A CiloError (exit 1) with clear words for a file-system fault `e` on `path` (default: the path
 * the error names), or undefined when `e` is not one of those faults.
 */
export function fsFault(e: unknown, path?: string): CiloError | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  const fault = typeof err?.code === "string" ? FAULTS[err.code] : undefined;
  if (!fault || e instanceof CiloError) return undefined;
  const where = path ?? err?.path;
  const verb = (err?.syscall && VERBS[err.syscall]) ?? "write";
  const what = where ? `Cannot ${verb} ${where}` : `Cannot ${verb} a file`;
  return new CiloError(`E_FS_${err!.code}` as ErrorCode, `${what}: ${fault.why}`, { exitCode: ExitCode.failure, hint: fault.hint, cause: e });
}
