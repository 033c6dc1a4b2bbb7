// Shared by the gateway's integration tests: the environment that turns the gateway on with the
// offline test image, GET by name with curl, and this home's gateway containers.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./docker.ts";

/** The gateway on (the test runner turns it off for other files), with the offline Caddy image. */
export const GATEWAY_TEST_ENV = { CILO_GATEWAY: "on", CILO_GATEWAY_IMAGE: process.env["CILO_TEST_GATEWAY_IMAGE"] ?? "cilo-test/caddy:latest" };

/**
 * `curl` the URL and split its output into the body and the `-w` value (default the HTTP status).
 * curl resolves `*.localhost` to the loopback by itself; `extra` adds e.g. `--resolve` or `--cacert`.
 */
export function curlGet(
  url: string,
  extra: string[] = [],
  writeOut = "%{http_code}",
  env?: NodeJS.ProcessEnv,
): { status: number; body: string; out: string; code: number; stderr: string } {
  const r = spawnSync("curl", ["-s", "--max-time", "5", ...extra, "-o", "-", "-w", `\n${writeOut}`, url], { encoding: "utf8", ...(env ? { env } : {}) });
  const text = r.stdout ?? "";
  const cut = text.lastIndexOf("\n");
  const out = text.slice(cut + 1);
  return { status: Number(out) || 0, body: text.slice(0, cut), out, code: r.status ?? -1, stderr: r.stderr ?? "" };
}

/** The ids of this home's gateway container(s), by its name and home label, on the engine `dockerEnv` names. */
export function gatewayIds(home: string, dockerEnv: NodeJS.ProcessEnv = process.env, host?: string): string[] {
  const id = JSON.parse(readFileSync(join(home, "state.json"), "utf8")).home_id;
  const name = host === undefined ? `^cilo_${id}_gateway$` : `^cilo_${id}_gateway\\.${host}$`;
  return execFileSync("docker", ["ps", "-aq", "--filter", `name=${name}`, "--filter", `label=cilo.home=${id}`], {
    encoding: "utf8",
    env: dockerEnv,
  })
    .split("\n")
    .filter(Boolean);
}

/**
 * A project in `src`: the service `web`, busybox httpd serving `src/www`, whose index.html is
 * `page`; `more` adds services (compose YAML, indented under `services:`).
 */
export function writeHttpdProject(src: string, page: string, more = ""): void {
  mkdirSync(join(src, "www"), { recursive: true });
  writeFileSync(
    join(src, "compose.yml"),
    `services:\n  web:\n    image: cilo-test/busybox:latest\n    command: ["httpd", "-f", "-p", "80", "-h", "/www"]\n    volumes:\n      - ./www:/www:ro\n${more}`,
  );
  writeFileSync(join(src, "www/index.html"), page);
}

/**
 * GET http://<name>:<port><path> by name. curl resolves `*.localhost` to the loopback itself;
 * `address` maps only that name to another address (`--resolve`, a stand-in resolver: never a
 * container IP).
 */
export function getByName(name: string, port: number, opts: { path?: string; address?: string } = {}) {
  return curlGet(`http://${name}:${port}${opts.path ?? "/"}`, opts.address ? ["--resolve", `${name}:${port}:${opts.address}`] : []);
}

/**
 * `cilo init` of a gateway test's home (`ok` runs cilo and expects exit 0): free ports for DNS and
 * the gateway's HTTP and HTTPS. Returns the gateway's HTTP port and the DNS port.
 */
export async function initGatewayHome(ok: (args: string[]) => unknown): Promise<{ gwPort: number; dnsPort: number }> {
  const gwPort = await freePort();
  const dnsPort = await freePort();
  ok(["init", "--dns-port", String(dnsPort), "--gateway-http-port", String(gwPort), "--gateway-https-port", String(await freePort())]);
  return { gwPort, dnsPort };
}

/** Removes this home's gateway container(s) on the engine `dockerEnv` names (a test's `after`). */
export function removeGateways(home: string, dockerEnv: NodeJS.ProcessEnv = process.env, host?: string): void {
  for (const id of gatewayIds(home, dockerEnv, host)) spawnSync("docker", ["rm", "-f", id], { env: dockerEnv });
}
