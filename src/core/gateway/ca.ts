import { createPrivateKey, X509Certificate } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { makeRootCa, rootCertPem } from "./x509.ts";

/**
 * cilo's local CA, one per home (docs/routing.md, "TLS"). cilo makes it itself and keeps it in
 * `$CILO_HOME/gateway/`; the gateway gets a copy of the root through the engine's archive API and
 * Caddy's `pki` app signs its intermediate and every name's certificate with it. So the CA does
 * not depend on any container or volume: removing the gateway, its volumes or switching engines
 * (local, `tcp://`, `ssh://`) keeps the root that `cilo trust` installed.
 */
export interface CaFiles {
  dir: string;
  /** The root certificate (PEM): what `cilo trust` installs. */
  cert: string;
  /** Its private key (PKCS#8 PEM, mode 0600). */
  key: string;
  /** The system's CAs plus cilo's root: what `SSL_CERT_FILE` & co. point at. */
  bundle: string;
}

export interface CaMaterial {
  cert: string;
  key: string;
  /** SHA-256 of the root, hex without colons. */
  fingerprint: string;
}

/** The root is renewed (same key) this long before it expires. */
const RENEW_BEFORE_MS = 30 * 86400_000;

export function caFiles(home: string): CaFiles {
  const dir = join(home, "gateway");
  return { dir, cert: join(dir, "ca.crt"), key: join(dir, "ca.key"), bundle: join(dir, "ca-bundle.pem") };
}

/** The name in the root's subject: the home id tells two homes' roots apart in a trust store. */
export function caCommonName(homeId: string): string {
  return `cilo local CA ${homeId}`;
}

/**
 * This home's CA, made on first use. The key is created with an exclusive link (two cilo processes
 * racing agree on one key); the certificate is (re)made for that key when missing, not matching it,
 * or near its end. Synchronous, so host command environments can use it.
 */
export function ensureCa(home: string, homeId: string, now = new Date()): CaMaterial {
  const f = caFiles(home);
  mkdirSync(f.dir, { recursive: true });
  let key = readIfExists(f.key);
  if (key === undefined) {
    const made = makeRootCa({ commonName: caCommonName(homeId), organization: "cilo" });
    const tmp = join(f.dir, `.ca.key.${process.pid}.${Date.now()}.tmp`);
    writeFileSync(tmp, made.key, { mode: 0o600 });
    try {
      linkSync(tmp, f.key);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    } finally {
      unlinkSync(tmp);
    }
    key = readFileSync(f.key, "utf8");
  }
  let cert = readIfExists(f.cert);
  if (cert === undefined || !certFits(cert, key, now)) {
    cert = rootCertPem(createPrivateKey(key), { commonName: caCommonName(homeId), organization: "cilo" });
    writeFileAtomic(f.cert, cert);
  }
  return { cert, key, fingerprint: new X509Certificate(cert).fingerprint256.replace(/:/g, "").toLowerCase() };
}

function certFits(cert: string, key: string, now: Date): boolean {
  try {
    const x = new X509Certificate(cert);
    return x.ca && x.checkPrivateKey(createPrivateKey(key)) && new Date(x.validTo).getTime() - now.getTime() > RENEW_BEFORE_MS;
  } catch {
    return false;
  }
}

/** Where the system keeps its CA bundle (Debian/Ubuntu/Alpine, Fedora/RHEL, openSUSE, macOS/BSD). */
export const SYSTEM_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem"];

/**
 * The CAs commands trusted before cilo added its own: the file `SSL_CERT_FILE` names, else the
 * system bundle, else Node's built-in Mozilla list (Windows, or a system without a bundle file).
 */
export function baseCaBundle(env: NodeJS.ProcessEnv, candidates = SYSTEM_BUNDLES): { source: string; pem: string } {
  const own = env["SSL_CERT_FILE"];
  for (const file of [...(own ? [own] : []), ...candidates]) {
    const text = readIfExists(file);
    if (text?.includes("-----BEGIN CERTIFICATE-----")) return { source: file, pem: text };
  }
  return { source: "node:tls rootCertificates", pem: `${rootCertificates.join("\n")}\n` };
}

/** The bundle's text: the base CAs, then cilo's root under a comment naming it. */
export function renderCaBundle(base: { source: string; pem: string }, caCert: string, home: string): string {
  const head = base.pem.endsWith("\n") ? base.pem : `${base.pem}\n`;
  return `${head}\n# cilo local CA of ${home.replace(/[\r\n]/g, " ")} (added to the CAs of ${base.source})\n${caCert}`;
}

/** Makes the CA when needed and (re)writes `ca-bundle.pem` when its content changed; returns the files. */
export function ensureCaBundle(home: string, homeId: string, env: NodeJS.ProcessEnv): CaFiles {
  const f = caFiles(home);
  const ca = ensureCa(home, homeId);
  // A bundle we wrote ourselves is not a base: SSL_CERT_FILE may already point at it.
  const base = baseCaBundle(env["SSL_CERT_FILE"] === f.bundle ? { ...env, SSL_CERT_FILE: "" } : env);
  const text = renderCaBundle(base, ca.cert, home);
  if (readIfExists(f.bundle) !== text) writeFileAtomic(f.bundle, text);
  return f;
}

/**
 * The variables that make commands trust the gateway's certificates: OpenSSL (curl, Python's ssl,
 * Ruby, git), Node (`NODE_EXTRA_CA_CERTS`), Python requests, and curl built against other TLS
 * libraries (`CURL_CA_BUNDLE`).
 */
export function caEnvironment(bundle: string): Record<string, string> {
  return { SSL_CERT_FILE: bundle, NODE_EXTRA_CA_CERTS: bundle, REQUESTS_CA_BUNDLE: bundle, CURL_CA_BUNDLE: bundle };
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
