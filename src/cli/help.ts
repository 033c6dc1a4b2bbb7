import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The environment variables cilo reads, as `cilo --help` lists them (docs/cli.md has the whole table; a unit test keeps both in step). */
export const ENVIRONMENT: readonly { name: string; effect: string }[] = [
  { name: "CILO_HOME", effect: "where state, DNS files and workspaces live (default ~/.cilo)" },
  { name: "CILO_COMPOSE", effect: 'the compose CLI, e.g. "docker-compose" or "docker compose"' },
  { name: "DOCKER_HOST", effect: "the Docker engine (else DOCKER_CONTEXT, the docker CLI's context, the default socket)" },
  { name: "CILO_DEBUG", effect: "1: stack traces on errors" },
  { name: "CILO_TIMINGS", effect: "1: a timeline of up's, destroy's and sync's steps on stderr (ms since start)" },
  { name: "CILO_VERBOSE", effect: "1: progress on stderr even when it is not a terminal" },
  { name: "CILO_LOCK_TIMEOUT_MS", effect: "how long to wait for the state lock (default 120000)" },
  { name: "CILO_SHARED_GRACE_MS", effect: "how long a shared service with no user keeps running (default 60000)" },
  { name: "CILO_DNS_UPSTREAMS", effect: "resolvers for names outside the suffix, e.g. 10.0.0.1,127.0.0.1#5399" },
  { name: "CILO_DNSMASQ", effect: "the dnsmasq binary" },
  { name: "CILO_GATEWAY", effect: "off: cilo neither starts nor changes the gateway, nor makes TCP forwards" },
  { name: "CILO_GATEWAY_IMAGE", effect: "the gateway's image (default caddy:2)" },
  { name: "CILO_FORWARD_IMAGE", effect: "the image of TCP forward containers (default busybox:1.36)" },
  { name: "CILO_HELPER_IMAGE", effect: "the image of the helper containers that copy volume data and tcp:// hosts' workspaces as tar (default busybox:1.36)" },
  { name: "NO_COLOR", effect: "no colours" },
  { name: "CILO_ENGINE", effect: "docker or podman, over cilo init --engine (default: detected from the engine's /version)" },
];

/** `docs/cli.md` of this installation (the sources and the bundle's chunks are both two levels below the package root). */
export function docsPath(): string | undefined {
  const path = fileURLToPath(new URL("../../docs/cli.md", import.meta.url));
  return existsSync(path) ? path : undefined;
}

/** The part of `cilo --help` after the commands: exit codes, environment, where the docs are. */
export function helpEpilogue(docs = docsPath()): string {
  const width = Math.max(...ENVIRONMENT.map((e) => e.name.length));
  return [
    "Exit codes:",
    "  0  success",
    "  1  failure (compose or Docker failed, a wait timed out, a workflow step failed)",
    "  2  bad usage or invalid input (unknown command, option, env or service; invalid file)",
    "  3  a prerequisite is missing (Docker engine, compose CLI, dnsmasq, cilo init)",
    "  130 / 143  interrupted by SIGINT / SIGTERM",
    "",
    "Environment:",
    ...ENVIRONMENT.map((e) => `  ${e.name.padEnd(width)}  ${e.effect}`),
    "",
    `Docs: ${docs ?? "docs/cli.md in cilo's repository"} (every command, option and variable)`,
    "Completion: cilo completion bash|zsh|fish",
  ].join("\n");
}

/** cac prints "(default: true)" after every `--no-x` option; for a negation that reads backwards. */
export function withoutNegatedDefaults(optionsBody: string): string {
  return optionsBody
    .split("\n")
    .map((line) => (/^\s+--no-/.test(line) ? line.replace(/\s*\(default: true\)/, "") : line))
    .join("\n");
}
