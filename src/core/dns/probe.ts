import { createSocket } from "node:dgram";
import { Resolver } from "node:dns/promises";
import { createServer } from "node:net";

/**
 * Whether a DNS server answers on `127.0.0.1:<port>` within `timeoutMs`. Asks `version.bind`
 * (TXT, class CHAOS), which dnsmasq answers itself: no zone, upstream or suffix is involved.
 */
export function dnsAnswers(port: number, timeoutMs = 200): Promise<boolean> {
  const id = Math.floor(Math.random() * 0x10000);
  const query = Buffer.concat([
    Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]),
    Buffer.from("\x07version\x04bind\x00", "latin1"),
    Buffer.from([0, 16, 0, 3]),
  ]);
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on("error", () => done(false));
    socket.on("message", (msg) => {
      if (msg.length >= 12 && msg.readUInt16BE(0) === id && (msg[2]! & 0x80) !== 0) done(true);
    });
    socket.send(query, port, "127.0.0.1");
  });
}

/** Polls until a DNS server answers on the port; false when `deadlineMs` passes first. */
export async function waitForDns(port: number, deadlineMs: number): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (await dnsAnswers(port, Math.min(200, Math.max(1, end - Date.now())))) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

/** Whether another socket holds `127.0.0.1:<port>` for UDP or TCP. */
export async function portInUse(port: number): Promise<boolean> {
  const taken = (e: NodeJS.ErrnoException) => e.code === "EADDRINUSE";
  const tcp = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once("error", (e) => resolve(taken(e)));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(false)));
  });
  if (tcp) return true;
  return new Promise<boolean>((resolve) => {
    const socket = createSocket("udp4");
    socket.once("error", (e) => {
      socket.close();
      resolve(taken(e));
    });
    socket.bind(port, "127.0.0.1", () => socket.close(() => resolve(false)));
  });
}

/** Whether `name` has an A record at the DNS server on `127.0.0.1:<port>` (one try, `timeoutMs`). */
export async function nameAnswers(port: number, name: string, timeoutMs = 200): Promise<boolean> {
  const r = new Resolver({ timeout: timeoutMs, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  try {
    return (await r.resolve4(name)).length > 0;
  } catch {
    return false;
  }
}

/** Polls until `name` answers (e.g. once a SIGHUP took effect); false when `deadlineMs` passes first. */
export async function waitForName(port: number, name: string, deadlineMs: number): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (await nameAnswers(port, name, Math.min(200, Math.max(1, end - Date.now())))) return true;
    await new Promise((r) => setTimeout(r, 2));
  }
  return false;
}

/** A loopback port free for both UDP and TCP right now (the kernel's pick). */
export async function freeLoopbackPort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const a = server.address();
        server.close(() => resolve(typeof a === "object" && a ? a.port : 0));
      });
    });
    if (port > 0 && !(await portInUse(port))) return port;
  }
}
