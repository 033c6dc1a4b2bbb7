// A small tar (ustar, with PAX headers for long names) writer and reader for the engine's archive
// API: files put into containers (docker-provider.ts) and workspace pushes to hosts without SSH
// (host/tar-sync.ts). Pure: buffers in, buffers out.

export interface TarEntry {
  path: string;
  type: "file" | "dir" | "symlink";
  mode: number;
  mtimeMs: number;
  size?: number;
  linkname?: string;
}

/** The 512-byte header block(s) of one tar entry (ustar; a PAX header first for a long path or link). */
export function tarHeaders(e: TarEntry): Buffer {
  const name = e.type === "dir" && !e.path.endsWith("/") ? `${e.path}/` : e.path;
  const link = e.linkname ?? "";
  const blocks: Buffer[] = [];
  const pax: string[] = [];
  if (Buffer.byteLength(name) > 100) pax.push(paxRecord("path", name));
  if (Buffer.byteLength(link) > 100) pax.push(paxRecord("linkpath", link));
  if (pax.length > 0) {
    const body = Buffer.from(pax.join(""), "utf8");
    blocks.push(header("PaxHeader", body.length, 0o644, 0, "x", ""), body, padding(body.length));
  }
  const type = e.type === "file" ? "0" : e.type === "dir" ? "5" : "2";
  blocks.push(header(truncate(name), e.type === "file" ? (e.size ?? 0) : 0, e.mode & 0o7777, Math.floor(e.mtimeMs / 1000), type, truncate(link)));
  return Buffer.concat(blocks);
}

/** Zeros after `size` bytes of data up to the next 512-byte block. */
export function padding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** The two zero blocks that end an archive. */
export const TAR_END = Buffer.alloc(1024);

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function truncate(s: string): string {
  const b = Buffer.from(s, "utf8");
  return b.length <= 100 ? s : b.subarray(0, 100).toString("latin1");
}

function header(name: string, size: number, mode: number, mtime: number, type: string, link: string): Buffer {
  const h = Buffer.alloc(512);
  const put = (value: string, at: number, len: number) => h.write(value, at, len, "utf8");
  const octal = (n: number, len: number) => `${n.toString(8).padStart(len - 1, "0")}\0`;
  put(name, 0, 100);
  put(octal(mode, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(Math.max(0, mtime), 12), 136, 12);
  put("        ", 148, 8);
  put(type, 156, 1);
  put(link, 157, 100);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return h;
}

/** The content of the first regular file of a tar archive (the engine's archive of one file); undefined when there is none. */
export function firstFileOfTar(tar: Buffer): Buffer | undefined {
  let at = 0;
  while (at + 512 <= tar.length) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) return undefined;
    const size = Number.parseInt(h.subarray(124, 136).toString("latin1").replace(/\0.*$/s, "").trim() || "0", 8);
    const type = String.fromCharCode(h[156]!);
    const data = at + 512;
    if (type === "0" || type === "\0") return tar.subarray(data, data + size);
    at = data + size + ((512 - (size % 512)) % 512);
  }
  return undefined;
}
