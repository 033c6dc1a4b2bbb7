// The gateway's HTTPS (issue 12 item 5): cilo's own root CA (x509.ts, ca.ts), the TLS part of the
// Caddy config (render-tls.ts) and `cilo trust`'s file logic (trust.ts) under a stand-in root.
import { spawnSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { baseCaBundle, caFiles, ensureCa, ensureCaBundle, renderCaBundle } from "../../src/core/gateway/ca.ts";
import { hostCaEnvironment } from "../../src/core/gateway/ca-env.ts";
import { renderGatewayConfig, type GatewayRoute } from "../../src/core/gateway/render.ts";
import { detectTrustStore, installTrust, TRUST_MARK, trustManual, uninstallTrust } from "../../src/core/gateway/trust.ts";
import { makeRootCa } from "../../src/core/gateway/x509.ts";

const dirs: string[] = [];
function dir(files: Record<string, string> = {}): string {
  const r = mkdtempSync(join(tmpdir(), "cilo-gwtls-unit-"));
  dirs.push(r);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(r, path)), { recursive: true });
    writeFileSync(join(r, path), content);
  }
  return r;
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test("makeRootCa: a self-signed v3 CA (basicConstraints CA, keyUsage certSign) that Node and openssl accept", () => {
  const ca = makeRootCa({ commonName: "cilo local CA abcd1234", organization: "cilo" });
  const x = new X509Certificate(ca.cert);
  assert.ok(x.ca);
  assert.ok(x.verify(x.publicKey), "self-signed");
  assert.ok(x.checkPrivateKey(createPrivateKey(ca.key)));
  assert.match(x.subject, "CN=cilo local CA abcd1234");
  assert.is(x.subject, x.issuer);
  const years = (new Date(x.validTo).getTime() - new Date(x.validFrom).getTime()) / (365 * 86400_000);
  assert.ok(years > 9.9 && years < 10.1, String(years));
  assert.ok(new Date(x.validFrom).getTime() < Date.now());
  const d = dir({ "ca.crt": ca.cert });
  const o = spawnSync("openssl", ["x509", "-in", join(d, "ca.crt"), "-noout", "-text"], { encoding: "utf8" });
  if (o.error) return; // no openssl here: Node's parser has judged it
  assert.match(o.stdout, /CA:TRUE/);
  assert.match(o.stdout, /Certificate Sign, CRL Sign/);
  assert.match(o.stdout, /Subject Key Identifier/);
  assert.is(spawnSync("openssl", ["verify", "-CAfile", join(d, "ca.crt"), join(d, "ca.crt")], { encoding: "utf8" }).status, 0);
});

test("makeRootCa: validity past 2049 is a GeneralizedTime (RFC 5280), read back right", () => {
  const ca = makeRootCa({ commonName: "late", notBefore: new Date("2049-06-01T00:00:00Z"), days: 365 });
  const x = new X509Certificate(ca.cert);
  assert.is(new Date(x.validTo).getUTCFullYear(), 2050);
  assert.is(new Date(x.validFrom).getUTCFullYear(), 2049);
});

test("ensureCa: made once per home (key 0600), kept on later calls, the certificate remade for the same key when lost or near its end", () => {
  const home = dir();
  const f = caFiles(home);
  const a = ensureCa(home, "abcd1234");
  assert.ok(existsSync(f.cert) && existsSync(f.key));
  if (process.platform !== "win32") assert.is(statSync(f.key).mode & 0o777, 0o600);
  assert.match(new X509Certificate(a.cert).subject, "cilo local CA abcd1234");
  assert.is(ensureCa(home, "abcd1234").fingerprint, a.fingerprint, "same root on the next call");
  rmSync(f.cert);
  const b = ensureCa(home, "abcd1234");
  assert.is(b.key, a.key, "the key is the CA's identity: kept");
  assert.ok(new X509Certificate(b.cert).checkPrivateKey(createPrivateKey(a.key)));
  const later = ensureCa(home, "abcd1234", new Date(Date.now() + 3640 * 86400_000));
  assert.is.not(later.fingerprint, b.fingerprint, "renewed 30 days before its end");
  assert.is(later.key, a.key);
  // A certificate that does not belong to the key is replaced.
  writeFileSync(f.cert, makeRootCa({ commonName: "other" }).cert);
  assert.ok(new X509Certificate(ensureCa(home, "abcd1234").cert).checkPrivateKey(createPrivateKey(a.key)));
});

test("the bundle: the CAs commands trusted before (SSL_CERT_FILE, else the system file, else Node's) plus cilo's root", () => {
  const d = dir({
    "own.pem": "-----BEGIN CERTIFICATE-----\nOWN\n-----END CERTIFICATE-----\n",
    "sys.pem": "-----BEGIN CERTIFICATE-----\nSYS\n-----END CERTIFICATE-----\n",
  });
  assert.is(baseCaBundle({ SSL_CERT_FILE: join(d, "own.pem") }, [join(d, "sys.pem")]).source, join(d, "own.pem"));
  assert.is(baseCaBundle({}, [join(d, "missing.pem"), join(d, "sys.pem")]).source, join(d, "sys.pem"));
  const node = baseCaBundle({ SSL_CERT_FILE: join(d, "missing.pem") }, [join(d, "missing.pem")]);
  assert.is(node.source, "node:tls rootCertificates");
  assert.ok(node.pem.split("BEGIN CERTIFICATE").length > 50);
  const text = renderCaBundle({ source: "s", pem: "A" }, "ROOT\n", "/h");
  assert.is(text, "A\n\n# cilo local CA of /h (added to the CAs of s)\nROOT\n");
  const home = dir();
  const f = ensureCaBundle(home, "abcd1234", { SSL_CERT_FILE: join(d, "own.pem") });
  const bundle = readFileSync(f.bundle, "utf8");
  assert.ok(bundle.startsWith(readFileSync(join(d, "own.pem"), "utf8")));
  assert.ok(bundle.endsWith(readFileSync(f.cert, "utf8")));
  // Pointed at the bundle already (a nested cilo run): it does not nest itself.
  ensureCaBundle(home, "abcd1234", { SSL_CERT_FILE: f.bundle });
  assert.is(readFileSync(f.bundle, "utf8").split(readFileSync(f.cert, "utf8")).length, 2, "cilo's root once");
});

test("host commands get SSL_CERT_FILE, NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE; nothing with CILO_GATEWAY=off", () => {
  const home = dir();
  const e = hostCaEnvironment(home, "abcd1234", {});
  const bundle = join(home, "gateway", "ca-bundle.pem");
  assert.equal(e, { SSL_CERT_FILE: bundle, NODE_EXTRA_CA_CERTS: bundle, REQUESTS_CA_BUNDLE: bundle, CURL_CA_BUNDLE: bundle });
  const off = dir();
  assert.equal(hostCaEnvironment(off, "abcd1234", { CILO_GATEWAY: "off" }), {});
  assert.not.ok(existsSync(join(off, "gateway")), "no CA made when the gateway is off");
});

const routes: GatewayRoute[] = [
  { env: "shop/a", service: "web", hosts: ["web.a.shop.localhost", "web.a.test"], upstream: "10.0.0.2:80" },
  { env: "shop/b", service: "web", hosts: ["web.b.shop.localhost"], down: "The env shop/b is stopped. Start it with: cilo up shop/b" },
];
const fp = "ab".repeat(32);

test("render with TLS: a :443 server with the same routes, h1+h2, no redirects, Caddy's internal issuer signing with cilo's root", () => {
  const plain = JSON.parse(renderGatewayConfig(routes));
  const c = JSON.parse(renderGatewayConfig(routes, { caFingerprint: fp }));
  assert.equal(c.apps.http.servers.cilo, plain.apps.http.servers.cilo, "HTTP unchanged");
  assert.is(plain.apps.pki, undefined);
  const tls = c.apps.http.servers.cilo_tls;
  assert.equal(tls.listen, [":443"]);
  assert.equal(tls.protocols, ["h1", "h2"]);
  assert.equal(tls.automatic_https, { disable_redirects: true });
  assert.equal(tls.tls_connection_policies, [{}]);
  assert.equal(tls.routes, plain.apps.http.servers.cilo.routes);
  assert.equal(tls.errors, plain.apps.http.servers.cilo.errors);
  const local = c.apps.pki.certificate_authorities.local;
  assert.equal(local.root, { certificate: "/etc/caddy/ca/root.crt", private_key: "/etc/caddy/ca/root.key", format: "pem_file" });
  assert.is(local.install_trust, false);
  assert.match(local.name, fp.slice(0, 16), "a new root is a new config");
  assert.equal(c.apps.tls.automation.policies, [{ issuers: [{ module: "internal", ca: "local" }] }]);
  assert.is(renderGatewayConfig(routes, { caFingerprint: fp }), renderGatewayConfig(routes, { caFingerprint: fp }), "deterministic");
  assert.throws(() => renderGatewayConfig(routes, { caFingerprint: 'x"}' }));
});

test("trust store detection: Debian/Ubuntu, Fedora, macOS, Windows, none", () => {
  assert.is(detectTrustStore(dir({ "usr/local/share/ca-certificates/.keep": "" }), "linux"), "debian");
  assert.is(detectTrustStore(dir({ "etc/pki/ca-trust/source/anchors/.keep": "" }), "linux"), "fedora");
  assert.is(detectTrustStore(dir(), "linux"), null);
  assert.is(detectTrustStore(dir(), "darwin"), "macos");
  assert.is(detectTrustStore(dir(), "win32"), "windows");
});

test("trust: writes one marked anchor per home, idempotent; refuses a file it did not write; needs root for the real /", () => {
  const cert = makeRootCa({ commonName: "cilo local CA abcd1234" }).cert;
  const r = dir({ "usr/local/share/ca-certificates/.keep": "" });
  const opts = { cert, certPath: "/h/gateway/ca.crt", homeId: "abcd1234", root: r };
  const a = installTrust(opts);
  const anchor = join(r, "usr/local/share/ca-certificates/cilo-abcd1234.crt");
  assert.equal(a, { method: "debian", file: anchor, changed: true, command: "update-ca-certificates" });
  assert.is(readFileSync(anchor, "utf8"), `${TRUST_MARK}\n${cert}`);
  assert.is(installTrust(opts).changed, false);
  const f = dir({ "etc/pki/ca-trust/source/anchors/cilo-abcd1234.pem": "mine\n" });
  assert.throws(
    () => installTrust({ ...opts, root: f }),
    (e: any) => e.exitCode === 2,
  );
  assert.is(readFileSync(join(f, "etc/pki/ca-trust/source/anchors/cilo-abcd1234.pem"), "utf8"), "mine\n", "untouched");
  const fed = dir({ "etc/pki/ca-trust/source/anchors/.keep": "" });
  assert.is(installTrust({ ...opts, root: fed }).command, "update-ca-trust");
  assert.ok(existsSync(join(fed, "etc/pki/ca-trust/source/anchors/cilo-abcd1234.pem")));
  assert.throws(
    () => installTrust({ ...opts, root: dir() }),
    (e: any) => e.code === "E_TRUST_UNKNOWN" && e.exitCode === 3,
  );
  if (process.platform === "linux" && detectTrustStore("/", "linux") !== null && !existsSync("/usr/local/share/ca-certificates/cilo-abcd1234.crt")) {
    const { root: _r, ...real } = opts;
    assert.throws(
      () => installTrust({ ...real, uid: 1000 }),
      (e: any) => e.code === "E_NEEDS_ROOT",
    );
  }
  const mac = installTrust({ ...opts, platform: "darwin" });
  assert.match(mac.command!, "security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain /h/gateway/ca.crt");
  assert.match(installTrust({ ...opts, platform: "win32" }).command!, 'certutil -addstore -f Root "/h/gateway/ca.crt"');
});

test("trust --uninstall: removes every anchor cilo wrote (any home, both stores), keeps others; dry run removes nothing", () => {
  const r = dir({
    "usr/local/share/ca-certificates/cilo-aaaa.crt": `${TRUST_MARK}\nX\n`,
    "usr/local/share/ca-certificates/cilo-bbbb.crt": "someone else's\n",
    "usr/local/share/ca-certificates/other.crt": `${TRUST_MARK}\nnot cilo's name\n`,
    "etc/pki/ca-trust/source/anchors/cilo-cccc.pem": `${TRUST_MARK}\nY\n`,
  });
  const base = { root: r, certPath: "/h/ca.crt", homeId: "aaaa" };
  const dry = uninstallTrust({ ...base, dryRun: true, platform: "linux" });
  assert.is(dry.removed.length, 2);
  assert.ok(existsSync(join(r, "usr/local/share/ca-certificates/cilo-aaaa.crt")));
  const u = uninstallTrust({ ...base, platform: "linux" });
  assert.equal(u.removed, [join(r, "usr/local/share/ca-certificates/cilo-aaaa.crt"), join(r, "etc/pki/ca-trust/source/anchors/cilo-cccc.pem")]);
  assert.equal(u.kept, [join(r, "usr/local/share/ca-certificates/cilo-bbbb.crt")]);
  assert.equal(u.commands, ["update-ca-certificates", "update-ca-trust"]);
  assert.ok(existsSync(join(r, "usr/local/share/ca-certificates/other.crt")));
  assert.equal(uninstallTrust({ ...base, platform: "linux" }).removed, [], "idempotent");
  assert.match(uninstallTrust({ ...base, platform: "darwin" }).commands[0]!, 'security delete-certificate -c "cilo local CA aaaa"');
  assert.match(uninstallTrust({ ...base, platform: "win32" }).commands[0]!, 'certutil -delstore Root "cilo local CA aaaa"');
});

test("trust --print: the CA file, every system's steps and the browsers with their own store", () => {
  const m = trustManual("/home/me/.cilo/gateway/ca.crt", "abcd1234");
  for (const s of [
    "/home/me/.cilo/gateway/ca.crt",
    "update-ca-certificates",
    "update-ca-trust",
    "security add-trusted-cert",
    "certutil -addstore",
    "Firefox",
    "nssdb",
  ]) {
    assert.match(m, s);
  }
});

test.run();
