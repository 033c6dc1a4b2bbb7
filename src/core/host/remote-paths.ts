import { isRecord } from "../is-record.ts";

// Pure parts of an env's remote workspace (docs/remote.md): how the rendered compose model's host
// paths move to the host, the rsync filter a `.ciloignore` becomes, and the ssh arguments of an
// ssh:// address. No I/O.

/** `path` under `local` (or `local` itself) moved under `remote`; undefined when it is not under it. */
export function movePath(path: string, local: string, remote: string): string | undefined {
  if (path === local) return remote;
  const base = local.endsWith("/") ? local : `${local}/`;
  return path.startsWith(base) ? `${remote}/${path.slice(base.length)}` : undefined;
}

/**
 * A resolved compose model whose host paths under the local workspace point at the remote one:
 * bind mounts (short `src:dst[:mode]` and long `{type: bind, source}` forms) and the `file:` of
 * top-level `configs` and `secrets` (compose bind-mounts those too). Build contexts and
 * `env_file`s stay local: the compose CLI runs here, reads them here and sends a build context to
 * the engine itself. Paths elsewhere (a socket, /etc/...) are left as written. Returns a new model.
 */
export function rewriteHostPaths(model: Record<string, unknown>, local: string, remote: string): Record<string, unknown> {
  const out = structuredClone(model);
  const services = isRecord(out["services"]) ? out["services"] : {};
  for (const svc of Object.values(services)) {
    if (!isRecord(svc) || !Array.isArray(svc["volumes"])) continue;
    svc["volumes"] = svc["volumes"].map((v: unknown) => {
      if (typeof v === "string") {
        const i = v.indexOf(":");
        const src = i < 0 ? v : v.slice(0, i);
        const moved = src.startsWith("/") ? movePath(src, local, remote) : undefined;
        return moved === undefined ? v : `${moved}${i < 0 ? "" : v.slice(i)}`;
      }
      if (isRecord(v) && v["type"] === "bind" && typeof v["source"] === "string") {
        const moved = movePath(v["source"], local, remote);
        return moved === undefined ? v : { ...v, source: moved };
      }
      return v;
    });
  }
  for (const top of ["configs", "secrets"]) {
    const section = out[top];
    if (!isRecord(section)) continue;
    for (const item of Object.values(section)) {
      if (isRecord(item) && typeof item["file"] === "string") {
        const moved = movePath(item["file"], local, remote);
        if (moved !== undefined) item["file"] = moved;
      }
    }
  }
  return out;
}

/**
 * rsync filter rules for a `.ciloignore` (gitignore syntax): a line `pat` excludes (`- pat`), a
 * line `!pat` brings back (`+ pat`). gitignore's last matching line wins and rsync's first, so the
 * rules come in reverse order. Blank lines and `#` comments are skipped; `\#` and `\!` are literal.
 * cilo's own folder (`.cilo/`, the rendered file) and `.git` are never pushed.
 */
export function rsyncFilterRules(ciloignore: string): string[] {
  const rules: string[] = [];
  for (const raw of ciloignore.split(/\r?\n/)) {
    const line = raw.replace(/(?<!\\)\s+$/, "");
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("!")) rules.push(`+ ${line.slice(1)}`);
    else rules.push(`- ${line.replace(/^\\([#!])/, "$1")}`);
  }
  return ["- /.cilo/", "- /.git", ...rules.reverse()];
}

/** `ssh://user@host:port` → the options and destination of an `ssh` (and rsync's `-e ssh …`) command. */
export function sshTarget(address: string): { options: string[]; host: string; user?: string } {
  const url = new URL(address);
  const user = decodeURIComponent(url.username);
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return {
    options: ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", ...(url.port ? ["-p", url.port] : []), ...(user ? ["-l", user] : [])],
    host,
    ...(user ? { user } : {}),
  };
}

/** rsync's `host:path` (`[v6]:path` for an IPv6 address). */
export function rsyncRemote(host: string, path: string): string {
  return `${host.includes(":") ? `[${host}]` : host}:${path}`;
}

/** `'…'` for a POSIX shell, with `'` as `'\''`. */
function shWord(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * The command line `cilo run --remote` gives ssh: in the remote workspace, with `vars` set, the
 * command through `sh -c` (the remote login shell only runs this line). Variable names are checked
 * (`[A-Z_][A-Z0-9_]*`); every value and the command are quoted.
 */
export function remoteRunLine(workspace: string, vars: Record<string, string>, command: string): string {
  const assigns = Object.entries(vars).map(([k, v]) => {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`not a variable name: ${k}`);
    return `${k}=${shWord(v)}`;
  });
  return `cd -- ${shWord(workspace)} && exec env ${assigns.join(" ")} sh -c ${shWord(command)}`;
}
