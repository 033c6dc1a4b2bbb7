// A CiloContext for unit tests: a temporary home, an explicit environment (no process.env), the
// fake provider and compose seam, a fixed clock and a logger that keeps what it was told.
import { createContext, type CiloContext, type Clock, type Environment } from "../../src/core/context/context.ts";
import type { DockerEndpoint } from "../../src/core/docker-endpoint.ts";
import { FAKE_COMPOSE_CLI, FakeCompose, FakeProvider } from "./fake-provider.ts";

export interface TestContext extends CiloContext {
  readonly fake: FakeProvider;
  readonly composeFake: FakeCompose;
  readonly warnings: string[];
}

export interface TestContextOptions {
  home: string;
  cwd?: string;
  /** Added to a minimal environment (PATH only, so git and the like still run). */
  env?: Environment;
  provider?: FakeProvider;
  /** Other engines by endpoint host (`tcp://…` of a host): a context bound to one (`forEndpoint`) gets that fake. */
  engines?: Record<string, FakeProvider>;
  /** What the (fake) system resolver answers, by name; any other name does not resolve (ENOTFOUND). */
  names?: Record<string, string>;
  compose?: FakeCompose;
  clock?: Clock;
}

export const TEST_ENDPOINT: DockerEndpoint = { host: "unix:///nonexistent/fake.sock", source: "default" };

/** Time stands still unless a test moves it; sleeping moves it. */
export function fixedClock(start = Date.parse("2026-01-01T00:00:00Z")): Clock & { t: number } {
  const clock = {
    t: start,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

export function testContext(opts: TestContextOptions): TestContext {
  const fake = opts.provider ?? new FakeProvider();
  const composeFake = opts.compose ?? new FakeCompose();
  const warnings: string[] = [];
  const ctx = createContext({
    home: opts.home,
    cwd: opts.cwd ?? opts.home,
    // PATH from the test's own process: core reads it only through this object. No CILO_HOME, no DOCKER_*.
    env: { PATH: process.env["PATH"], CILO_DNSMASQ: "/nonexistent/dnsmasq", ...opts.env },
    endpoint: TEST_ENDPOINT,
    createProvider: async (endpoint) => opts.engines?.[endpoint.host] ?? fake,
    detectCompose: async () => FAKE_COMPOSE_CLI,
    runCompose: composeFake.run,
    lookupIPv4: async (name) => {
      const ip = opts.names?.[name];
      if (ip === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: "ENOTFOUND" });
      return ip;
    },
    clock: opts.clock ?? fixedClock(),
    log: { warn: (m) => warnings.push(m) },
  });
  return { ...ctx, fake, composeFake, warnings };
}
