import { spawnSync } from "node:child_process";
import { caFiles, ensureCa } from "../../core/gateway/ca.ts";
import { installTrust, trustManual, uninstallTrust } from "../../core/gateway/trust.ts";
import { CiloError, ExitCode } from "../../core/errors.ts";
import type { CiloContext } from "../../core/context/context.ts";
import { readState } from "../../core/state/store.ts";
import { printJson, println } from "../output.ts";

interface TrustCommandOptions {
  print?: boolean;
  uninstall?: boolean;
  root?: string;
  json?: boolean;
}

/**
 * `cilo trust [--print] [--uninstall] [--root <dir>]`: this home's root CA (the gateway's HTTPS,
 * docs/routing.md) into the system trust store, or out of it. With `--root` the files go under that
 * folder and the store's update command is printed, not run.
 */
export default async function trust(ctx: CiloContext, opts: TrustCommandOptions): Promise<number> {
  const home = ctx.home;
  const state = readState(ctx);
  const files = caFiles(home);
  const root = opts.root ? { root: opts.root } : {};
  if (opts.uninstall) {
    const r = uninstallTrust({ ...root, certPath: files.cert, homeId: state.home_id });
    const ran = r.removed.length > 0 && !opts.root && process.platform === "linux" ? r.commands.map(runUpdate) : [];
    if (opts.json) {
      printJson({ ...r, ran });
      return 0;
    }
    for (const f of r.removed) println(`removed ${f}`);
    for (const f of r.kept) println(`kept ${f} (not written by cilo trust)`);
    if (r.removed.length === 0 && process.platform === "linux") println("Nothing to remove: no CA file written by cilo trust was found");
    for (const cmd of r.commands)
      if (!ran.includes(cmd)) println(`${process.platform === "linux" ? "Now run" : "Run"}: ${process.platform === "linux" ? "sudo " : ""}${cmd}`);
    for (const cmd of ran) println(`ran ${cmd}`);
    return 0;
  }
  const ca = ensureCa(home, state.home_id);
  if (opts.print) {
    if (opts.json) {
      printJson({ cert: files.cert, fingerprint_sha256: ca.fingerprint, manual: trustManual(files.cert, state.home_id) });
      return 0;
    }
    println(trustManual(files.cert, state.home_id));
    return 0;
  }
  const r = installTrust({ ...root, cert: ca.cert, certPath: files.cert, homeId: state.home_id });
  const linux = r.method === "debian" || r.method === "fedora";
  const ran = linux && !opts.root && r.command ? [runUpdate(r.command)] : [];
  if (opts.json) {
    printJson({ ...r, cert: files.cert, ran });
    return 0;
  }
  if (r.file) println(`${r.changed ? "wrote" : "unchanged"} ${r.file}`);
  if (ran.length > 0) println(`ran ${ran[0]}`);
  else if (r.command) println(linux ? `Now run: sudo ${r.command}` : `Run: ${r.command}`);
  println("Firefox (and Chrome on Linux) keep their own store: cilo trust --print shows the steps");
  return 0;
}

/** Runs a trust store's update command (update-ca-certificates, update-ca-trust). */
function runUpdate(cmd: string): string {
  const r = spawnSync(cmd, [], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : (r.stderr || r.stdout).trim().split("\n").pop();
    throw new CiloError("E_TRUST_UPDATE", `${cmd} failed: ${why}`, { exitCode: ExitCode.failure, hint: `The CA file is in place; run ${cmd} as root by hand` });
  }
  return cmd;
}
