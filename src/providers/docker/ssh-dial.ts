import type { ChildProcess } from "node:child_process";
import { Agent } from "node:http";
import { createRequire } from "node:module";
import { Duplex } from "node:stream";

/**
 * `node:child_process`, loaded when the first ssh connection opens: this file is part of the
 * provider every Docker command loads, and child_process (with dgram and net underneath) is worth
 * about 10 M instructions of a `cilo status` that never dials ssh. `createConnection` is
 * synchronous, hence `require` rather than `import()`.
 */
const requireBuiltin = createRequire(import.meta.url);
function spawnSsh(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const { spawn } = requireBuiltin("node:child_process") as typeof import("node:child_process");
  return spawn("ssh", args, { env, stdio: ["pipe", "pipe", "pipe"] });
}

/**
 * `ssh://` engines the way the Docker CLI and compose reach them: the `ssh` program on PATH runs
 * `docker system dial-stdio` on the host, and each HTTP connection of dockerode is that process's
 * stdin/stdout. So dockerode, the compose CLI (given the same DOCKER_HOST) and a later rsync all
 * use one SSH setup: the user's ~/.ssh/config, agent, keys and known_hosts (never a key cilo
 * keeps), and a host key the user has not accepted fails instead of being trusted silently
 * (dockerode's own ssh2 transport reads none of that). docs/remote.md.
 */
export function sshArgs(host: string): string[] {
  const url = new URL(host);
  const user = decodeURIComponent(url.username);
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  // BatchMode: never a password prompt on the user's terminal in the middle of a command.
  return [
    "-o",
    "ConnectTimeout=10",
    "-o",
    "BatchMode=yes",
    "-T",
    ...(url.port ? ["-p", url.port] : []),
    ...(user ? ["-l", user] : []),
    "--",
    hostname,
    "docker",
    "system",
    "dial-stdio",
  ];
}

/**
 * How long a connection waits, idle, for the next request before its ssh is ended. Long enough
 * for `up` to reuse the one its network creation opened when compose has made the containers (a
 * few seconds on a loaded machine), short enough that an idle session never outlives the command's
 * need for it by much.
 */
export const SSH_IDLE_MS = 10_000;

/**
 * An http.Agent whose every connection is one `ssh … docker system dial-stdio` process, kept for
 * the next request (HTTP keep-alive, as the Docker CLI keeps its dial-stdio connections): each new
 * one costs an ssh session and a start of the docker CLI on the host (tens of milliseconds even
 * over a shared connection), so the requests of one command that follow each other (`up`: ping,
 * networks, network create, containers) go over one. A kept connection holds no reference on the
 * event loop (the command exits as before; its ssh then reads EOF and ends) and ends after
 * `SSH_IDLE_MS` of idleness or when its ssh exits.
 */
export function sshDialAgent(host: string, env: NodeJS.ProcessEnv): Agent {
  const agent = new Agent({ keepAlive: true });
  const args = sshArgs(host);
  (agent as unknown as { createConnection: () => Duplex }).createConnection = () => new SshStream(spawnSsh(args, env), host);
  return agent;
}

/** A child's stdin/stdout as one socket-like stream; its stderr becomes the error when it fails. */
class SshStream extends Duplex {
  private stderr = "";
  private gotData = false;
  /** Kept by the agent between requests (it calls `unref` then, `ref` when it reuses the connection). */
  private idle = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly child: ChildProcess,
    private readonly host: string,
  ) {
    super();
    child.stdout!.on("data", (b: Buffer) => {
      this.gotData = true;
      if (!this.push(b)) child.stdout!.pause();
    });
    // ssh failing prints nothing on stdout: its exit code and stderr decide at close (below).
    child.stdout!.on("end", () => {
      if (this.gotData) this.push(null);
    });
    child.stderr!.on("data", (b: Buffer) => {
      if (this.stderr.length < 4096) this.stderr += b.toString("utf8");
    });
    child.stdin!.on("error", () => {});
    child.on("error", (e) => this.destroy(sshError(this.host, (e as NodeJS.ErrnoException).code === "ENOENT" ? "the ssh program is not on PATH" : e.message)));
    child.on("close", (code) => {
      // An idle connection whose ssh ended (the host or the link went away): closed, so the agent
      // drops it and the next request opens a new one.
      if (this.idle) this.destroy();
      if (this.gotData) return;
      if (code === 0) {
        this.push(null);
        return;
      }
      const line = this.stderr.trim().split("\n").filter(Boolean).pop() ?? `ssh exited with ${code}`;
      this.destroy(sshError(this.host, line));
    });
  }

  override _read(): void {
    this.child.stdout!.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    // A write to an ssh that has exited fails with EPIPE before its exit is seen: the close handler
    // then says why (ssh's own line, e.g. "Connection refused"), not a bare EPIPE.
    this.child.stdin!.write(chunk, () => cb());
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.child.stdin!.end();
    cb();
  }

  override _destroy(e: Error | null, cb: (e?: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    cb(e);
  }

  // What http.ClientRequest may call on a socket.
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  /** The agent reuses the connection for a request: it holds the event loop again. */
  ref(): this {
    this.idle = false;
    clearTimeout(this.idleTimer);
    this.holdLoop(true);
    return this;
  }
  /** The agent keeps the connection for a later request: the command may exit meanwhile. */
  unref(): this {
    this.idle = true;
    this.holdLoop(false);
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.destroy(), SSH_IDLE_MS);
    this.idleTimer.unref();
    return this;
  }
  private holdLoop(hold: boolean): void {
    for (const h of [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as ({ ref?(): void; unref?(): void } | null)[]) {
      if (hold) h?.ref?.();
      else h?.unref?.();
    }
  }
}

/** `ssh: <what ssh said>`; the provider reads an error of this form as "the engine does not answer". */
function sshError(host: string, line: string): Error {
  const e = new Error(line.startsWith("ssh:") ? line : `ssh to ${host}: ${line}`);
  (e as Error & { ssh: boolean }).ssh = true;
  return e;
}
