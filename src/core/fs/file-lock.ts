import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { CiloError, messageOf } from "../errors.ts";
import { importLockfile } from "../vendor.ts";

/** A lock whose holder has not refreshed it for this long is taken over (holder presumed dead). */
export const LOCK_STALE_MS = 5_000;
const LOCK_UPDATE_MS = 1_000;

/** How long to wait for a live holder: `CILO_LOCK_TIMEOUT_MS`, default 120 s. */
export function lockTimeoutMs(env: NodeJS.ProcessEnv): number {
  const v = Number(env["CILO_LOCK_TIMEOUT_MS"]);
  return Number.isFinite(v) && v > 0 ? v : 120_000;
}

/**
 * Runs `fn` holding an inter-process lock on `file` (a `<file>.lock` folder whose mtime the holder
 * refreshes every second; stale after 5 s, so a killed holder delays others by 5 to 6 s: a
 * process's first lock is dated up to 1 s ahead while proper-lockfile probes the mtime precision).
 * `fn` learns through `isCompromised()` whether the lock was taken over meanwhile. Always released.
 * A live holder is waited for at most `timeoutMs` (see `lockTimeoutMs`).
 */
export async function withFileLock<T>(file: string, timeoutMs: number, fn: (isCompromised: () => boolean) => Promise<T>): Promise<T> {
  let compromised = false;
  const release = await acquire(file, timeoutMs, () => {
    compromised = true;
  });
  const mine = lockFolderIdentity(file);
  try {
    // proper-lockfile learns of a takeover only on its next refresh (a timer, then an async stat):
    // a holder that was frozen (SIGSTOP, a suspended machine, an event loop blocked for seconds)
    // runs on for a while before it is told. The folder itself says so at once: a takeover removes
    // it and makes a new one (same inode number maybe, never the same birth time).
    return await fn(() => compromised || mine === undefined || lockFolderIdentity(file) !== mine);
  } finally {
    try {
      await release();
    } catch {
      // Released already (compromised) or the lock folder is gone: nothing to do.
    }
  }
}

async function acquire(file: string, timeoutMs: number, onCompromised: () => void): Promise<() => Promise<void>> {
  const lockfile = await importLockfile();
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    try {
      return await lockfile.lock(file, { realpath: false, stale: LOCK_STALE_MS, update: LOCK_UPDATE_MS, retries: 0, onCompromised });
    } catch (e) {
      // ENOENT with the folder present: the lock folder this process just made was taken over as
      // stale by another process (a holder starved of CPU for LOCK_STALE_MS under heavy load)
      // before proper-lockfile dated it: the lock was lost before it was held, so try again.
      const lostAtOnce = (e as NodeJS.ErrnoException).code === "ENOENT" && existsSync(dirname(file));
      if ((e as NodeJS.ErrnoException).code !== "ELOCKED" && !lostAtOnce) {
        throw new CiloError("E_LOCKED", `Cannot lock ${file}: ${messageOf(e)}`, { cause: e });
      }
      if (Date.now() > deadline) {
        throw new CiloError("E_LOCKED", `Timed out after ${Math.round(timeoutMs / 1000)} s waiting for the lock on ${file}`, {
          hint: `Another cilo command holds it; if none is running, remove ${file}.lock`,
        });
      }
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
      delay = Math.min(delay * 1.5, 100);
    }
  }
}

/**
 * Which lock folder `<file>.lock` is now: its inode and birth time, undefined when it is gone. A
 * folder removed and made again (a takeover) differs, even when the file system reuses the inode.
 */
export function lockFolderIdentity(file: string): string | undefined {
  try {
    const st = statSync(`${file}.lock`, { bigint: true });
    return `${st.ino}:${st.birthtimeNs}:${st.dev}`;
  } catch {
    return undefined;
  }
}
