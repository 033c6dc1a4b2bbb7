import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { CiloError, ExitCode } from "../errors.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";

/**
 * `cilo trust`: puts this home's root CA into the system trust store, or says how. Like
 * `cilo dns setup`, `root` stands for `/` (tests, images), detection reads under it, and only files
 * cilo wrote (first line its own mark) are ever removed.
 */
export type TrustMethod = "debian" | "fedora" | "macos" | "windows";

export interface TrustOptions {
  /** The root certificate (PEM) and its file in the home. */
  cert: string;
  certPath: string;
  homeId: string;
  root?: string;
  platform?: NodeJS.Platform;
  uid?: number;
}

export interface TrustResult {
  method: TrustMethod | null;
  /** The anchor file written (Linux), or undefined where cilo writes none. */
  file?: string;
  changed: boolean;
  /** What makes the store read the file (run by the command unless `--root` is given), or the command to run by hand. */
  command: string | null;
}

/** The first line of every anchor cilo writes: `uninstallTrust` removes only files that start with it. */
export const TRUST_MARK = "# cilo local CA (written by cilo trust)";

/** Which trust store the machine under `root` uses. */
export function detectTrustStore(root: string, platform: NodeJS.Platform): TrustMethod | null {
  if (platform === "darwin") return "macos";
  if (platform === "win32") return "windows";
  if (platform !== "linux") return null;
  if (isDir(join(root, "usr/local/share/ca-certificates")) || exists(join(root, "usr/sbin/update-ca-certificates"))) return "debian";
  if (isDir(join(root, "etc/pki/ca-trust/source/anchors"))) return "fedora";
  return null;
}

/** The anchor file of a home's CA in a Linux store (one per home: two homes' CAs sit side by side). */
export function anchorPath(method: "debian" | "fedora", root: string, homeId: string): string {
  if (!/^[a-z0-9]{1,32}$/.test(homeId)) throw new CiloError("E_USAGE", `The home id ${JSON.stringify(homeId.slice(0, 40))} is not a plain id`);
  return method === "debian"
    ? join(root, "usr/local/share/ca-certificates", `cilo-${homeId}.crt`)
    : join(root, "etc/pki/ca-trust/source/anchors", `cilo-${homeId}.pem`);
}

export function updateCommand(method: "debian" | "fedora"): string {
  return method === "debian" ? "update-ca-certificates" : "update-ca-trust";
}

export function macosCommands(certPath: string, homeId: string): { add: string; remove: string } {
  return {
    add: `sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${shellQuote(certPath)}`,
    remove: `sudo security delete-certificate -c "cilo local CA ${homeId}" /Library/Keychains/System.keychain`,
  };
}

export function windowsCommands(certPath: string, homeId: string): { add: string; remove: string } {
  return { add: `certutil -addstore -f Root "${certPath}"`, remove: `certutil -delstore Root "cilo local CA ${homeId}"` };
}

/**
 * Installs the CA: on Debian/Ubuntu and Fedora writes the anchor file (as root, unless `root` is
 * given) and returns the store's update command for the caller to run; on macOS and Windows
 * writes nothing and returns the command to run (they ask for an administrator themselves).
 */
export function installTrust(opts: TrustOptions): TrustResult {
  const root = resolve(opts.root ?? "/");
  const method = detectTrustStore(root, opts.platform ?? process.platform);
  if (method === null) {
    throw new CiloError("E_TRUST_UNKNOWN", "No supported trust store was found (Debian/Ubuntu, Fedora/RHEL, macOS, Windows)", {
      exitCode: ExitCode.prerequisite,
      hint: "Run cilo trust --print for the CA file and the steps to do by hand",
    });
  }
  if (method === "macos") return { method, changed: false, command: macosCommands(opts.certPath, opts.homeId).add };
  if (method === "windows") return { method, changed: false, command: windowsCommands(opts.certPath, opts.homeId).add };
  const file = anchorPath(method, root, opts.homeId);
  const content = `${TRUST_MARK}\n${opts.cert.trimEnd()}\n`;
  const current = readIfExists(file);
  if (current !== undefined && !current.startsWith(`${TRUST_MARK}\n`)) {
    throw new CiloError("E_USAGE", `${file} exists and was not written by cilo trust; not overwriting it`, { exitCode: ExitCode.usage });
  }
  const changed = current !== content;
  if (changed) {
    needsRoot(root, opts.uid, `cilo trust needs root to write ${file}`, "Run: sudo cilo trust (or cilo trust --print to see the steps)");
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, content);
  }
  return { method, file, changed, command: updateCommand(method) };
}

export interface UntrustResult {
  /** Anchor files cilo wrote, removed. */
  removed: string[];
  /** Files at cilo's anchor names that cilo did not write: left alone. */
  kept: string[];
  /** Commands that make the stores forget the removed files (or, on macOS/Windows, the command to run by hand). */
  commands: string[];
}

/**
 * Removes every anchor cilo trust wrote under `root`, on every Linux store and for every home
 * (a `cilo-*.crt`/`cilo-*.pem` file whose first line is cilo's mark); others are kept and listed.
 * On macOS and Windows returns the command that removes this home's CA.
 */
export function uninstallTrust(opts: {
  root?: string;
  uid?: number;
  platform?: NodeJS.Platform;
  certPath: string;
  homeId: string;
  dryRun?: boolean;
}): UntrustResult {
  const root = resolve(opts.root ?? "/");
  const platform = opts.platform ?? process.platform;
  if (platform === "darwin") return { removed: [], kept: [], commands: [macosCommands(opts.certPath, opts.homeId).remove] };
  if (platform === "win32") return { removed: [], kept: [], commands: [windowsCommands(opts.certPath, opts.homeId).remove] };
  const removed: string[] = [];
  const kept: string[] = [];
  const commands = new Set<string>();
  for (const method of ["debian", "fedora"] as const) {
    const dir = dirname(anchorPath(method, root, "x"));
    let names: string[] = [];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (!/^cilo-[a-z0-9]+\.(crt|pem)$/.test(name)) continue;
      const path = join(dir, name);
      if (isFile(path) && (readIfExists(path) ?? "").startsWith(`${TRUST_MARK}\n`)) {
        removed.push(path);
        commands.add(updateCommand(method));
      } else kept.push(path);
    }
  }
  if (opts.dryRun || removed.length === 0) return { removed, kept, commands: [...commands] };
  needsRoot(root, opts.uid, `cilo trust --uninstall needs root to remove ${removed[0]}`, "Run: sudo cilo trust --uninstall");
  for (const f of removed) rmSync(f, { force: true });
  return { removed, kept, commands: [...commands] };
}

/** `cilo trust --print`: the CA file and the steps for every system and for browsers with their own store. */
export function trustManual(certPath: string, homeId: string): string {
  const mac = macosCommands(certPath, homeId);
  const win = windowsCommands(certPath, homeId);
  return [
    `cilo's local CA for this home: ${certPath}`,
    "",
    "Debian / Ubuntu (what cilo trust does):",
    `    sudo cp ${shellQuote(certPath)} /usr/local/share/ca-certificates/cilo-${homeId}.crt && sudo update-ca-certificates`,
    "Fedora / RHEL:",
    `    sudo cp ${shellQuote(certPath)} /etc/pki/ca-trust/source/anchors/cilo-${homeId}.pem && sudo update-ca-trust`,
    "macOS (System keychain; undo with the second line):",
    `    ${mac.add}`,
    `    ${mac.remove}`,
    "Windows (an administrator PowerShell or cmd; undo with the second line):",
    `    ${win.add}`,
    `    ${win.remove}`,
    "Firefox keeps its own store: Settings > Privacy & Security > Certificates > View Certificates >",
    "    Authorities > Import..., pick the file above and tick 'Trust this CA to identify websites'",
    "    (or set security.enterprise_roots.enabled to true in about:config to use the system store).",
    "Chrome and Edge use the system store on macOS and Windows; on Linux they read the NSS database:",
    `    certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n "cilo local CA ${homeId}" -i ${shellQuote(certPath)}`,
    "Commands started by cilo run and workflow run: steps trust it already (SSL_CERT_FILE & co.).",
  ].join("\n");
}

function needsRoot(root: string, uid: number | undefined, message: string, hint: string): void {
  if (root === "/" && (uid ?? process.getuid?.() ?? 0) !== 0) throw new CiloError("E_NEEDS_ROOT", message, { exitCode: ExitCode.prerequisite, hint });
}

function shellQuote(s: string): string {
  return /^[\w./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function isDir(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}
