import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, lstatSync, readlinkSync } from "node:fs";
import { join, relative } from "node:path";

/** Docker resources carrying the given label filters (e.g. "cilo.env=x"), via the docker CLI. */
export function labelled(kind: "container" | "network" | "volume", ...filters: string[]): string[] {
  const args = kind === "container" ? ["ps", "-a", "-q"] : [kind, "ls", "-q"];
  for (const f of filters) args.push("--filter", `label=${f}`);
  return execFileSync("docker", args, { encoding: "utf8" }).split("\n").filter(Boolean);
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
