import { batched, shQuote } from "./tar-sync-plan.ts";

// Pure parts of a small incremental push over ssh (docs/remote.md "Remote workspace"): the command
// ssh runs on the host, and the script that puts the pushed files in place there. The files come
// as one tar on ssh's stdin into a stage folder of the remote workspace (`.cilo/sync-*`, on the
// same file system), then each is renamed into place: a container sees the old file or the new
// one, never half of one, and an interrupted push changes nothing (the tar never finished) or
// leaves whole files (the renames did not all happen: the next push sends them all again, its
// manifest was not recorded). No I/O.

/** A stage folder's name: `sync-` and lower-case letters, digits and dashes. */
export function stageName(now: number, random: number): string {
  return `sync-${now.toString(36)}-${Math.floor(random * 36 ** 6).toString(36)}`;
}

function checkStage(stage: string): void {
  if (!/^sync-[a-z0-9-]{1,40}$/.test(stage)) throw new Error(`not a stage name: ${stage}`);
}

/**
 * The command line ssh runs on the host: in the remote workspace (made when missing), unpack the
 * tar read on stdin (its entries are under `.cilo/<stage>/`: tar makes the stage folder; owner not
 * restored; umask 0 so that each file gets the mode in the tar, as rsync -p gives it), then run the
 * `apply.sh` the tar ends with. A POSIX login shell reads it. Two processes (tar, sh) and the
 * script's own: every exec counts on a loaded host.
 */
export function receiverCommand(remote: string, stage: string): string {
  checkStage(stage);
  const r = shQuote(remote);
  // A push compares with the manifest of the last one, which says the workspace is there: when it
  // is not (the host was wiped or rebuilt, the folder removed by hand) the receiver reads nothing
  // and says so (WORKSPACE_GONE), and the push compares the whole trees instead.
  // A `.cilo` that is a symlink (a container made it) is removed first: tar would unpack through it.
  return `{ cd -- ${r} 2>/dev/null || { echo ${shQuote(WORKSPACE_GONE_LINE)} >&2; exit ${WORKSPACE_GONE}; }; } && { [ ! -L .cilo ] || rm -f .cilo; } && (umask 0 && exec tar -xof -) && exec sh ${shQuote(`.cilo/${stage}/apply.sh`)}`;
}

/** The receiver's exit code, with `WORKSPACE_GONE_LINE` on stderr, when the remote workspace is not there. */
export const WORKSPACE_GONE = 97;
export const WORKSPACE_GONE_LINE = "cilo-sync: the remote workspace is not there";

/** Whether a receiver's run (ssh's exit code and stderr) found no remote workspace. */
export function workspaceGone(r: { code: number; stderr: string }): boolean {
  return r.code === WORKSPACE_GONE && r.stderr.includes(WORKSPACE_GONE_LINE);
}

export interface ApplyPlan {
  /** Files and symlinks in the tar under `f/<path>`, to rename into place. */
  send: string[];
  /** Folders to make. */
  mkdirs: string[];
  /** Paths to remove, with what they hold (a folder). */
  remove: string[];
}

// `dir` makes a folder and each folder above it, replacing a symlink or a file in the way (as rsync
// does); `gone` removes a path unless it is reached through a symlink or a non-folder (a link a
// container made must not lead a removal out of the workspace).
const FUNCTIONS = `dir() {
  p=
  rest=$1/
  while [ -n "$rest" ]; do
    p=\${p:+$p/}\${rest%%/*}
    rest=\${rest#*/}
    if [ -L "$p" ] || { [ -e "$p" ] && [ ! -d "$p" ]; }; then rm -f -- "$p"; fi
    [ -d "$p" ] || mkdir -- "$p"
  done
}
gone() {
  p=
  rest=$1
  while :; do
    case $rest in */*) ;; *) break ;; esac
    p=\${p:+$p/}\${rest%%/*}
    rest=\${rest#*/}
    if [ -L "$p" ] || [ ! -d "$p" ]; then return 0; fi
  done
  rm -rf -- "$1"
}
put() {
  if command -v perl >/dev/null 2>&1; then
    perl -e 'for (my $i = 0; $i < @ARGV; $i += 2) { rename($ARGV[$i], $ARGV[$i + 1]) or die "rename $ARGV[$i + 1]: $!\\n" }' -- "$@"
  else
    while [ $# -gt 0 ]; do mv -f -- "$1" "$2"; shift 2; done
  fi
}`;

/**
 * The script that puts a push in place, run by `sh` in the remote workspace `remote` once the tar
 * is unpacked in `.cilo/<stage>`: removes what is gone (folders with what they hold), makes folders
 * (new ones and those of each sent file), clears a folder where a sent file goes, renames the
 * staged files into place (`rename(2)` each: perl's when the host has perl, else `mv`), then drops
 * the stage (`.cilo` with it when it held nothing else; else stages older than an hour that an
 * interrupted push left). Paths are the walk's (`safeRelPath` ones); each is quoted.
 */
export function applyScript(remote: string, stage: string, plan: ApplyPlan): string {
  checkStage(stage);
  const lines = ["set -e", `cd -- ${shQuote(remote)}`, FUNCTIONS];
  for (const p of plan.remove) lines.push(`gone ${shQuote(p)}`);
  const dirs = new Set(plan.mkdirs);
  for (const f of plan.send) {
    const i = f.lastIndexOf("/");
    const d = i < 0 ? "." : f.slice(0, i);
    if (d !== ".") dirs.add(d);
  }
  for (const d of [...dirs].sort()) lines.push(`dir ${shQuote(d)}`);
  for (const f of plan.send) lines.push(`[ ! -d ${shQuote(f)} ] || [ -L ${shQuote(f)} ] || rm -rf -- ${shQuote(f)}`);
  // One perl for every rename when the host has it (Debian's perl-base is essential): ten files in
  // ten folders are one process instead of ten mv.
  if (plan.send.length > 0) {
    const pairs = plan.send.map((f) => `${shQuote(`.cilo/${stage}/f/${f}`)} ${shQuote(f)}`);
    lines.push(...batched("put", pairs, ""));
  }
  // The stage is all .cilo holds (the usual case): one rm of .cilo. Else the stage, and with find
  // (only then: a process less on every push) stages older than an hour.
  lines.push(
    "n=0",
    `for e in .cilo/* .cilo/.[!.]* .cilo/..?*; do if [ -e "$e" ] || [ -L "$e" ]; then n=$((n + 1)); fi; done`,
    `if [ "$n" = 1 ] && [ -d ${shQuote(`.cilo/${stage}`)} ]; then rm -rf -- .cilo; else`,
    `  rm -rf -- ${shQuote(`.cilo/${stage}`)}`,
    `  for s in .cilo/sync-*; do if [ -d "$s" ]; then find .cilo -maxdepth 1 -name 'sync-*' -mmin +60 -exec rm -rf -- {} + 2>/dev/null || true; break; fi; done`,
    "  rmdir .cilo 2>/dev/null || true",
    "fi",
  );
  return `${lines.join("\n")}\n`;
}
