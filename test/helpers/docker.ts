import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, lstatSync, readlinkSync } from "node:fs";
import { join, relative } from "node:path";
import "./engine.ts"; // the engine of this pass (CILO_TEST_ENGINE): the docker CLI calls below go to it

/** Docker resources carrying the given label filters (e.g. "cilo.env=x"), via the docker CLI. */
export function labelled(kind: "container" | "network" | "volume", ...filters: string[]): string[] {
  const list = (fs: string[]) => {
    const args = kind === "container" ? ["ps", "-a", "-q"] : [kind, "ls", "-q"];
    for (const f of fs) args.push("--filter", `label=${f}`);
    return execFileSync("docker", args, { encoding: "utf8" }).split("\n").filter(Boolean);
  };
  // Podman 4.3 ORs several label filters of a volume list (Docker ANDs them): one list per filter,
  // intersected, is the same on both engines.
  if (kind !== "volume" || filters.length < 2) return list(filters);
  const [first, ...rest] = filters.map((f) => list([f]));
  return first!.filter((name) => rest.every((names) => names.includes(name)));
}

/** sha256 of every file (and link target) under a folder, keyed by relative path. */
export function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isSymbolicLink()) out[rel] = `link:${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[`${rel}/`] = `dir:${(st.mode & 0o777).toString(8)}`;
        walk(p);
      } else out[rel] = `${(st.mode & 0o777).toString(8)}:${createHash("sha256").update(readFileSync(p)).digest("hex")}`;
    }
  };
  walk(dir);
  return out;
}

/** HTTP GET from the host to a container address, with a few retries while it starts. */
export async function httpGet(url: string, tries = 20): Promise<{ status: number; body: string }> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      return { status: res.status, body: await res.text() };
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`GET ${url} failed: ${String(last)}`);
}

/**
 * A random high loopback port free for both TCP and UDP (dnsmasq binds both), never cilo's
 * default 5354. Shared by the tests and the DNS benchmark.
 */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const { createSocket } = await import("node:dgram");
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const tcp = await new Promise<boolean>((res) => {
      const s = createServer();
      s.once("error", () => res(false));
      s.listen(port, "127.0.0.1", () => s.close(() => res(true)));
    });
    if (!tcp) continue;
    const udp = await new Promise<boolean>((res) => {
      const s = createSocket("udp4");
      s.once("error", () => res(false));
      s.bind(port, "127.0.0.1", () => s.close(() => res(true)));
    });
    if (udp) return port;
  }
}

/** One event of `docker events --format '{{json .}}'` (container labels are in Actor.Attributes). */
export interface DockerEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
}

export interface DockerEventsWatcher {
  /** Every event seen since `watchDockerEvents` resolved that `keep` accepted, once all before this call have arrived. */
  stop(): Promise<DockerEvent[]>;
}

/**
 * Watches `docker events` live (the engine keeps only its last 256 events, too few to read back
 * after a busy test). Resolves once the watcher is known to be subscribed, and `stop()` returns
 * once every event up to that call has arrived: both are seen by a marker event (a volume made and
 * removed at once, named uniquely) coming through the stream, instead of guessed with sleeps.
 */
export async function watchDockerEvents(keep: (e: DockerEvent) => boolean): Promise<DockerEventsWatcher> {
  const child = spawn("docker", ["events", "--format", "{{json .}}"], { stdio: ["ignore", "pipe", "pipe"] });
  const kept: DockerEvent[] = [];
  const markers = new Map<string, () => void>();
  let buffer = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    buffer += d;
    let nl = buffer.indexOf("\n");
    while (nl >= 0) {
      const e = JSON.parse(buffer.slice(0, nl)) as DockerEvent;
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf("\n");
      // Docker names a volume in Actor.ID; Podman 4.3 leaves that empty and names it in Attributes.name.
      const marker = e.Type === "volume" && e.Action === "create" ? markers.get(e.Actor.ID || e.Actor.Attributes["name"] || "") : undefined;
      if (marker) marker();
      else if (keep(e)) kept.push(e);
    }
  });
  const exited = new Promise<never>((_, reject) => child.once("close", (code) => reject(new Error(`docker events exited (${code}): ${stderr}`))));
  exited.catch(() => {});
  const mark = async (): Promise<void> => {
    const name = `cilo-test-evmark-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    const seen = new Promise<void>((resolve) => markers.set(name, resolve));
    const deadline = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`docker events: marker ${name} not seen within 30 s`)), 30_000).unref(),
    );
    // Until the watcher is subscribed a marker may go unseen: make another every second.
    for (;;) {
      execFileSync("docker", ["volume", "create", "--label", "cilo-test.events-marker=1", name], { stdio: "ignore" });
      execFileSync("docker", ["volume", "rm", name], { stdio: "ignore" });
      const outcome = await Promise.race([seen.then(() => "seen"), exited, deadline, new Promise((r) => setTimeout(r, 1000, "again"))]);
      if (outcome === "seen") break;
    }
    markers.delete(name);
  };
  try {
    await mark();
    kept.length = 0;
  } catch (e) {
    child.kill();
    throw e;
  }
  return {
    async stop() {
      try {
        await mark();
      } finally {
        child.kill();
      }
      return kept;
    },
  };
}
