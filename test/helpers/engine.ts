/**
 * The engine integration tests run against. `CILO_TEST_ENGINE=podman` (the Podman pass of
 * scripts/test.mjs) points everything a test starts at Podman's Docker-compatible API socket,
 * `CILO_TEST_PODMAN_HOST` (default the one scripts/test-podman.sh starts): cilo (which detects
 * Podman from the socket's /version answer), the compose CLI it runs and the tests' own `docker`
 * CLI calls. Imported for this effect by test/helpers/cli.ts, so every integration file that runs
 * cilo runs against the engine the pass selects, unchanged. Integration files run one process each.
 */
export type TestEngine = "docker" | "podman";

export const DEFAULT_PODMAN_TEST_HOST = "unix:///run/cilo-test-podman/podman.sock";

export const testEngine: TestEngine = process.env["CILO_TEST_ENGINE"] === "podman" ? "podman" : "docker";

/** The Podman API socket of the test bed. */
export function podmanTestHost(): string {
  return process.env["CILO_TEST_PODMAN_HOST"] || DEFAULT_PODMAN_TEST_HOST;
}

if (testEngine === "podman") {
  process.env["DOCKER_HOST"] = podmanTestHost();
  delete process.env["DOCKER_CONTEXT"];
}
