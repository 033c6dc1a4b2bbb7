import { heldInput } from "../proc/held-input.ts";
import { run, type RunResult } from "../proc/run.ts";
import type { Listing } from "./find-listing.ts";
import { receiverCommand } from "./sync-script.ts";

// The parts of an incremental push over ssh (remote-workspace.ts `pushChanges`) that can begin
// before the push knows what it sends: the listing of the workspace, and the ssh session whose
// receiver on the host waits for the tar on its stdin. Light, so that the CLI begins both before
// the rest of `cilo sync` loads (env/sync-early.ts).

/** The receiver of a push (`receiverCommand`) running over ssh, its tar still to come. */
export interface Receiver {
  /** The remote workspace, stage and ssh target it was started for. */
  remote: string;
  stage: string;
  ssh: { options: readonly string[]; host: string };
  /** Hands it the tar; its run's result. */
  feed(tar: Buffer): Promise<RunResult>;
  /** Its run's result, fed or not. */
  done: Promise<RunResult>;
  /** Kills it unfed (a no-op once fed): it has read nothing, so the host is left as it was. */
  cancel(): void;
}

/**
 * Starts ssh with the receiver of a push into `remote` (stage `stage`): its connection (or its
 * session on a shared one) opens while the caller still lists what to send.
 */
export function startReceiver(
  env: NodeJS.ProcessEnv,
  ssh: { options: readonly string[]; host: string },
  remote: string,
  stage: string,
  signal?: AbortSignal,
): Receiver {
  const held = heldInput<Buffer>();
  const result = run("ssh", [...ssh.options, "-T", "--", ssh.host, receiverCommand(remote, stage)], {
    env: { ...env },
    input: held.input,
    ...(signal ? { signal } : {}),
  });
  return {
    remote,
    stage,
    ssh,
    done: result,
    feed(tar) {
      held.give(tar);
      return result;
    },
    cancel() {
      held.refuse("push stopped before its tar");
    },
  };
}

/** What a front end began of a push before the push's own modules loaded. */
export interface EarlyPush {
  /** The workspace listed, under this `.ciloignore` text. */
  workspace: string;
  ignoreText: string;
  listing: Listing;
  /** The receiver, for an env whose manifest of the last push says an incremental push comes. */
  receiver?: Receiver;
}
