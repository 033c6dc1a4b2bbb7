/**
 * Warnings a user must see even in scripts (e.g. a fallback that changes behaviour, DNS that could
 * not be updated), on stderr as `cilo: warning: ...`. Here rather than in cli/ because core
 * reports some itself (refreshDns) and core imports nothing from the layers above it.
 */
export function warn(s: string): void {
  process.stderr.write(`cilo: warning: ${s}\n`);
}
