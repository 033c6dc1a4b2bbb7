import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

/**
 * A self-signed root CA certificate, made with Node's own crypto (no openssl, no package): an ECDSA
 * P-256 key and an X.509 v3 certificate with basicConstraints CA:TRUE and keyUsage
 * keyCertSign+cRLSign, both critical, and a subjectKeyIdentifier. The DER is written by hand
 * below; `new X509Certificate(pem)` and `openssl verify` read it back in the unit tests.
 */
export interface RootCa {
  /** PEM of the certificate. */
  cert: string;
  /** PEM (PKCS#8) of the private key. */
  key: string;
}

export interface RootCaOptions {
  commonName: string;
  organization?: string;
  /** Start of validity (default: now, less one hour for clock skew). */
  notBefore?: Date;
  /** Days it is valid from `notBefore` (default 3650). */
  days?: number;
}

export function makeRootCa(opts: RootCaOptions): RootCa {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { cert: rootCertPem(privateKey, opts), key: privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
}

/** The self-signed certificate of an existing EC P-256 key. */
export function rootCertPem(privateKey: KeyObject, opts: RootCaOptions): string {
  const spki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  const notBefore = opts.notBefore ?? new Date(Date.now() - 3600_000);
  const notAfter = new Date(notBefore.getTime() + (opts.days ?? 3650) * 86400_000);
  const name = seq(...(opts.organization ? [set(seq(oid("2.5.4.10"), utf8(opts.organization)))] : []), set(seq(oid("2.5.4.3"), utf8(opts.commonName))));
  const ecdsaSha256 = seq(oid("1.2.840.10045.4.3.2"));
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, and no leading zero byte
  const keyId = createHash("sha1").update(publicKeyBits(spki)).digest();
  const extensions = seq(
    extension("2.5.29.19", true, seq(bool(true))), // basicConstraints CA:TRUE
    extension("2.5.29.15", true, tlv(0x03, Buffer.from([0x01, 0x06]))), // keyUsage keyCertSign, cRLSign
    extension("2.5.29.14", false, tlv(0x04, keyId)), // subjectKeyIdentifier
  );
  const tbs = seq(
    tlv(0xa0, int(Buffer.from([2]))), // v3
    int(serial),
    ecdsaSha256,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    Buffer.from(spki),
    tlv(0xa3, extensions),
  );
  const signature = sign("sha256", tbs, privateKey); // DER ECDSA-Sig-Value
  const der = seq(tbs, ecdsaSha256, bitString(signature));
  return pem("CERTIFICATE", der);
}

export function pem(label: string, der: Buffer): string {
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END ${label}-----\n`;
}

function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

function seq(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

function set(...items: Buffer[]): Buffer {
  return tlv(0x31, Buffer.concat(items));
}

function int(bytes: Buffer): Buffer {
  return tlv(0x02, bytes);
}

function bool(v: boolean): Buffer {
  return tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
}

function utf8(s: string): Buffer {
  return tlv(0x0c, Buffer.from(s, "utf8"));
}

function bitString(bytes: Buffer): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));
}

function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map(Number);
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), tlv(0x04, value));
}

/** UTCTime before 2050, GeneralizedTime from then on (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString(); // 2026-12-02T00:55:15.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, ""); // 20261202005515
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${digits}Z`));
}

/** The subjectPublicKey BIT STRING's bits of an SPKI (for the key identifier, RFC 5280 4.2.1.2 (1)). */
function publicKeyBits(spki: Buffer): Buffer {
  // SPKI = SEQUENCE { AlgorithmIdentifier, BIT STRING }: skip the outer header and the algorithm.
  let i = headerLength(spki, 0);
  i += headerLength(spki, i) + contentLength(spki, i);
  const bitsStart = i + headerLength(spki, i);
  return spki.subarray(bitsStart + 1, bitsStart + contentLength(spki, i));
}

function headerLength(buf: Buffer, at: number): number {
  const b = buf[at + 1]!;
  return b < 0x80 ? 2 : 2 + (b & 0x7f);
}

function contentLength(buf: Buffer, at: number): number {
  const b = buf[at + 1]!;
  if (b < 0x80) return b;
  let n = 0;
  for (let k = 0; k < (b & 0x7f); k++) n = n * 256 + buf[at + 2 + k]!;
  return n;
}
