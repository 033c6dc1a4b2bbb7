import { lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, type Stats } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { CiloError, ExitCode } from "../errors.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { configPort, dnsSuffix, shown } from "../dns-names.ts";
import { readTextIfExists } from "./read-text.ts";

export type ResolverMethod = "systemd-resolved" | "networkmanager-dnsmasq" | "macos-resolver";

export interface SetupOptions {
  /** The suffix(es) to send to cilo, without the leading dot. */
  suffix: string | string[];
  port: number;
  /** Folder that stands for `/`: detection reads and files are written under it. */
  root?: string;
  platform?: NodeJS.Platform;
  /** Only describe the steps; write nothing. */
  printManual?: boolean;
  /** Effective user id (writing under the real `/` needs 0). */
  uid?: number;
}

export interface SetupFile {
  path: string;
  content: string;
  changed: boolean;
}

export interface SetupResult {
  method: ResolverMethod | null;
  /** The files setup wrote (or, with `printManual`, would write). */
  files: SetupFile[];
  /** The command that makes the resolver read them, when one is needed. */
  reload: string | null;
  written: boolean;
  manual: string;
}

interface Hook {
  method: ResolverMethod;
  files: { path: string; content: string }[];
  reload: string | null;
}

/**
 * Wires the system resolver to send the suffix to cilo's dnsmasq on 127.0.0.1:<port>: a
 * systemd-resolved drop-in, a NetworkManager dnsmasq snippet, or `/etc/resolver/<suffix>` on
 * macOS, whichever the machine uses. The one cilo step that needs root.
 */
export function setupResolver(opts: SetupOptions): SetupResult {
  const root = resolve(opts.root ?? "/");
  // Checked again here although state and config loading check them: these lines go into the
  // machine's resolver config, written as root.
  const suffixes = [...new Set((Array.isArray(opts.suffix) ? opts.suffix : [opts.suffix]).map((s) => dnsSuffix(s)))].sort();
  configPort(opts.port);
  const method = detectResolver(root, opts.platform ?? process.platform);
  if (method === null) {
    const manual = manualForAll(root, suffixes, opts.port);
    if (opts.printManual) return { method, files: [], reload: null, written: false, manual };
    throw new CiloError("E_RESOLVER_UNKNOWN", "No supported system resolver was found (systemd-resolved, NetworkManager with dnsmasq, macOS)", {
      exitCode: ExitCode.prerequisite,
      hint: "Run cilo dns setup --print-manual for the steps to do by hand",
    });
  }
  const hook = hookFor(method, root, suffixes, opts.port);
  const manual = manualFor(hook);
  const files = hook.files.map((f) => ({ ...f, changed: readTextIfExists(f.path) !== f.content }));
  if (opts.printManual) return { method, files, reload: hook.reload, written: false, manual };
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  if (root === "/" && uid !== 0) {
    throw new CiloError("E_NEEDS_ROOT", `cilo dns setup needs root to write ${hook.files[0]!.path}`, {
      exitCode: ExitCode.prerequisite,
      hint: "Run: sudo cilo dns setup (or cilo dns setup --print-manual to see the steps)",
    });
  }
  for (const f of files) {
    if (!f.changed) continue;
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileAtomic(f.path, f.content);
  }
  return { method, files, reload: hook.reload, written: files.some((f) => f.changed), manual };
}

/** Which resolver the machine under `root` uses, judged from its files. */
export function detectResolver(root: string, platform: NodeJS.Platform): ResolverMethod | null {
  if (platform === "darwin") return "macos-resolver";
  if (platform !== "linux") return null;
  const resolvConf = join(root, "etc/resolv.conf");
  if (/systemd\/resolve\//.test(linkTarget(resolvConf)) || /^\s*nameserver\s+127\.0\.0\.53\s*$/m.test(readTextIfExists(resolvConf) ?? "")) {
    return "systemd-resolved";
  }
  if (networkManagerUsesDnsmasq(root)) return "networkmanager-dnsmasq";
  if (readTextIfExists(join(root, "run/systemd/resolve/stub-resolv.conf")) !== undefined) return "systemd-resolved";
  return null;
}

/** The first line of every file `setupResolver` writes; `teardownResolver` removes only files that start with it. */
const SETUP_MARK = "(written by cilo dns setup)";

function hookFor(method: ResolverMethod, root: string, suffixes: string[], port: number): Hook {
  const header = `# cilo: send ${suffixes.map((s) => `.${s}`).join(" ")} to cilo's dnsmasq ${SETUP_MARK}\n`;
  switch (method) {
    case "systemd-resolved":
      return {
        method,
        files: [
          {
            path: join(root, "etc/systemd/resolved.conf.d/cilo.conf"),
            content: `${header}[Resolve]\nDNS=127.0.0.1:${port}\nDomains=${suffixes.map((s) => `~${s}`).join(" ")}\n`,
          },
        ],
        reload: "systemctl restart systemd-resolved",
      };
    case "networkmanager-dnsmasq":
      return {
        method,
        files: [
          {
            path: join(root, "etc/NetworkManager/dnsmasq.d/cilo.conf"),
            content: `${header}${suffixes.map((s) => `server=/${s}/127.0.0.1#${port}\n`).join("")}`,
          },
        ],
        reload: "systemctl restart NetworkManager",
      };
    case "macos-resolver":
      return {
        method,
        files: suffixes.map((s) => ({ path: macosResolverFile(root, s), content: `${header}nameserver 127.0.0.1\nport ${port}\n` })),
        reload: null,
      };
  }
}

export interface TeardownOptions {
  /** Folder that stands for `/`. */
  root?: string;
  /** Effective user id (removing under the real `/` needs 0). */
  uid?: number;
  /** Only list what would be removed. */
  dryRun?: boolean;
}

export interface TeardownResult {
  /** Files cilo wrote that were (or, with `dryRun`, would be) removed. */
  removed: string[];
  /** Files at cilo's paths that cilo did not write: left alone. */
  kept: string[];
  /** Commands that make the resolvers forget the removed files. */
  reload: string[];
}

/**
 * Undoes `setupResolver` on every resolver it knows, whatever the machine uses now: removes each
 * file at one of setup's paths whose first line is setup's own header. A file there that cilo did
 * not write (no header) is kept and reported, never removed.
 */
export function teardownResolver(opts: TeardownOptions = {}): TeardownResult {
  const root = resolve(opts.root ?? "/");
  const candidates: { path: string; reload: string | null }[] = [
    { path: join(root, "etc/systemd/resolved.conf.d/cilo.conf"), reload: "systemctl restart systemd-resolved" },
    { path: join(root, "etc/NetworkManager/dnsmasq.d/cilo.conf"), reload: "systemctl restart NetworkManager" },
  ];
  const resolverDir = join(root, "etc/resolver");
  let macos: string[] = [];
  try {
    macos = readdirSync(resolverDir).sort();
  } catch {
    // no /etc/resolver
  }
  for (const name of macos) candidates.push({ path: join(resolverDir, name), reload: null });
  const removed: string[] = [];
  const kept: string[] = [];
  const reload = new Set<string>();
  for (const c of candidates) {
    const st = lstatIfExists(c.path);
    if (!st) continue;
    const text = st.isFile() ? readTextIfExists(c.path) : undefined;
    const firstLine = text?.split("\n", 1)[0] ?? "";
    if (!(firstLine.startsWith("# cilo: ") && firstLine.endsWith(SETUP_MARK))) {
      // Only files named like cilo's count as kept; other /etc/resolver files are none of cilo's business.
      if (!c.path.startsWith(`${resolverDir}/`)) kept.push(c.path);
      continue;
    }
    removed.push(c.path);
    if (c.reload) reload.add(c.reload);
  }
  if (opts.dryRun || removed.length === 0) return { removed, kept, reload: [...reload] };
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  if (root === "/" && uid !== 0) {
    throw new CiloError("E_NEEDS_ROOT", `cilo dns teardown needs root to remove ${removed[0]}`, {
      exitCode: ExitCode.prerequisite,
      hint: "Run: sudo cilo dns teardown (or cilo dns teardown --dry-run to see what it removes)",
    });
  }
  for (const f of removed) rmSync(f, { force: true });
  return { removed, kept, reload: [...reload] };
}

function lstatIfExists(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** `<root>/etc/resolver/<suffix>`; refuses a suffix that would name any other file. */
export function macosResolverFile(root: string, suffix: string): string {
  const dir = join(root, "etc/resolver");
  const name = dnsSuffix(suffix);
  const file = join(dir, name);
  const rel = relative(dir, file);
  if (rel !== name || rel.includes("/") || rel.startsWith(".")) {
    throw new CiloError("E_DNS_INVALID_SUFFIX", `The DNS suffix ${shown(suffix)} does not name a file in ${dir}`, { exitCode: ExitCode.usage });
  }
  return file;
}

function manualFor(hook: Hook): string {
  const steps = hook.files.map((f) => `Write ${f.path} (as root) with:\n\n${indent(f.content)}`);
  steps.push(hook.reload ? `Then run: sudo ${hook.reload}` : "macOS reads /etc/resolver by itself; nothing needs restarting.");
  return steps.join("\n");
}

function manualForAll(root: string, suffixes: string[], port: number): string {
  const methods: [string, ResolverMethod][] = [
    ["With systemd-resolved", "systemd-resolved"],
    ["With NetworkManager using dnsmasq (dns=dnsmasq)", "networkmanager-dnsmasq"],
    ["On macOS", "macos-resolver"],
  ];
  const name = `<service>.<env>.${suffixes[0] ?? "test"}`;
  return [
    `No supported resolver was detected. cilo's dnsmasq answers on 127.0.0.1:${port}; send ${suffixes.map((s) => `.${s}`).join(" ")} to it.`,
    ...methods.map(([title, m]) => `${title}:\n${manualFor(hookFor(m, root, suffixes, port))}`),
    `Without any of these, query it directly: dig @127.0.0.1 -p ${port} ${name}`,
  ].join("\n\n");
}

function networkManagerUsesDnsmasq(root: string): boolean {
  const dir = join(root, "etc/NetworkManager");
  const confD = join(dir, "conf.d");
  let extra: string[] = [];
  try {
    extra = readdirSync(confD)
      .filter((n) => n.endsWith(".conf"))
      .map((n) => join(confD, n));
  } catch {
    // no conf.d
  }
  return [join(dir, "NetworkManager.conf"), ...extra].some((f) => /^\s*dns\s*=\s*dnsmasq\s*$/m.test(readTextIfExists(f) ?? ""));
}

function linkTarget(file: string): string {
  try {
    return lstatSync(file).isSymbolicLink() ? readlinkSync(file) : "";
  } catch {
    return "";
  }
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n")
    .concat("\n");
}
