// The compose transform against the real docker-compose 1.29 and Docker engine (SPEC §3 "Compose model").
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parse } from "yaml";
import { stringifyComposeYaml } from "../../src/core/compose/compose-yaml.ts";
import { transformCompose } from "../../src/core/compose/transform.ts";
import { envDockerName } from "../../src/core/labels.ts";

const HOME = { id: "ctrtest", path: "/tmp/cilo-ctr-home" };
const composeProjectName = (project: string, env: string) => envDockerName(HOME.id, project, env);
const envNetworkName = composeProjectName;
import { overlaps, parseCidr, parseIPv4, type Cidr } from "../../src/core/cidr.ts";
import { removeDir, repoRoot, tempDir } from "../helpers/cli.ts";

const fixtures = join(repoRoot, "test/fixtures/compose");
const example = join(repoRoot, "examples/complex");
const PROJECT = "complex";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(cmd: string, args: string[], cwd = repoRoot): Run {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 180_000 });
  return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

function ok(cmd: string, args: string[], cwd = repoRoot): string {
  const r = sh(cmd, args, cwd);
  assert.is(r.code, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

function suffix(): string {
  return randomBytes(3).toString("hex");
}

/** Subnets of every Docker network on the engine, to pick test subnets that collide with none. */
function dockerSubnets(): Cidr[] {
  const ids = ok("docker", ["network", "ls", "-q"]).split("\n").filter(Boolean);
  // A network removed between the two calls only makes inspect complain about it.
  const text = sh("docker", ["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", ...ids]).stdout;
  return text.split(/\s+/).flatMap((s) => parseCidr(s) ?? []);
}

function freeSubnets(count: number): string[] {
  const taken = dockerSubnets();
  const picked: string[] = [];
  for (const x of [...Array(256).keys()].sort(() => Math.random() - 0.5)) {
    const candidate = parseCidr(`10.250.${x}.0/24`)!;
    if (taken.some((t) => overlaps(t, candidate))) continue;
    picked.push(`10.250.${x}.0/24`);
    if (picked.length === count) return picked;
  }
  throw new Error("no free 10.250.x.0/24 subnet on this engine");
}

function inSubnet(ip: string, subnet: string): boolean {
  const c = parseCidr(subnet)!;
  const n = parseIPv4(ip);
  return n !== undefined && overlaps(c, { base: n, prefix: 32 });
}

function labelled(kind: "container" | "network" | "volume", env: string): string[] {
  const args =
    kind === "container"
      ? ["ps", "-a", "--filter", `label=cilo.env=${env}`, "--format", "{{.Names}}"]
      : [kind, "ls", "--filter", `label=cilo.env=${env}`, "--format", "{{.Name}}"];
  return ok("docker", args).split("\n").filter(Boolean).sort();
}

test("docker-compose 1.29 accepts the transform of every captured 1.29 model", () => {
  const dir = tempDir();
  try {
    const captured = readdirSync(fixtures).filter((f) => f.endsWith(".1.29.yml"));
    assert.ok(captured.length >= 4, captured.join(","));
    for (const name of captured) {
      const env = `t-${suffix()}`;
      const model = parse(readFileSync(join(fixtures, name), "utf8"));
      const { yaml } = transformCompose({
        model,
        project: "fixture",
        env,
        home: HOME,
        dockerName: composeProjectName("fixture", env),
        subnet: "10.250.0.0/24",
      });
      const file = join(dir, name);
      writeFileSync(file, yaml);
      const r = sh("docker-compose", ["-p", composeProjectName("fixture", env), "-f", file, "config", "-q"], dir);
      assert.is(r.code, 0, `${name}: ${r.stderr}`);
    }
  } finally {
    removeDir(dir);
  }
});

test("values survive the round trip through docker-compose 1.29's YAML 1.1 reader", () => {
  const dir = tempDir();
  try {
    const model = parse(readFileSync(join(fixtures, "ports-and-modes.1.29.yml"), "utf8"));
    const environment = {
      ...(model["services"] as any).web.environment,
      EQ: "=",
      MERGE: "<<",
      DAY: "2001-01-01",
      HEX: "0x1F",
      ON: "on",
      Y: "y",
      TIME: "12:30",
      COLON: "a: b",
      HASH: "#x",
      FLAG: "--flag",
      NEG: "-1",

      LINES: "two\nlines",
      TAB: "a\tb",

      UML: "Grüße",
      EMPTY: "",
    };
    (model["services"] as any).web.environment = environment;
    const { yaml } = transformCompose({
      model,
      project: "fixture",
      env: "roundtrip",
      home: HOME,
      dockerName: composeProjectName("fixture", "roundtrip"),
      subnet: "10.250.0.0/24",
    });
    const file = join(dir, "compose.yml");
    writeFileSync(file, yaml);
    const again = parse(ok("docker-compose", ["-p", "cilo_fixture_roundtrip", "-f", file, "config"], dir));
    const services = again["services"] as any;
    assert.equal(services.web.environment, environment);
    assert.equal(services.web.labels, {
      "cilo.env": "roundtrip",
      "cilo.home": HOME.id,
      "cilo.home.path": HOME.path,
      "cilo.managed": "true",
      "cilo.project": "fixture",
      "cilo.service": "web",
    });
    assert.is(services.sidecar.network_mode, "service:web");
    assert.equal(Object.keys(again["networks"] as object), ["default"]);
  } finally {
    removeDir(dir);
  }
});

test("PyYAML, compose 1.29's reader, reads the writer's YAML of random data back unchanged", () => {
  // The same generator idea as test/unit/compose-yaml.test.ts, read here by the real reader.
  const pieces = [
    ..."aZ09_-./:@+=,()# '\"\\*&!|>%?[]{}~<\t\n",
    "\u0085",
    "\u2028",
    "\ufeff",
    "é",
    "\ud83d\ude00",
    "yes",
    "off",
    "null",
    "1e3",
    "12:30",
    "--x",
    "<<",
    "=",
  ];
  let x = 7;
  const r = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const str = () => Array.from({ length: Math.floor(r() * 5) }, () => pieces[Math.floor(r() * pieces.length)]).join("");
  const value = (d: number): unknown => {
    const p = r();
    if (d > 2 || p < 0.5) return str();
    if (p < 0.6) return Math.floor(r() * 2000) - 1000;
    if (p < 0.65) return r() < 0.5;
    if (p < 0.8) return Array.from({ length: Math.floor(r() * 4) }, () => value(d + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, () => [str(), value(d + 1)]));
  };
  const data = Array.from({ length: 500 }, () => ({ k: value(0) }));
  const dir = tempDir();
  try {
    const file = join(dir, "data.yml");
    writeFileSync(file, stringifyComposeYaml({ data }));
    const read = ok("python3", ["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))))", file]);
    assert.equal(JSON.parse(read), { data });
  } finally {
    removeDir(dir);
  }
});

test("two copies of examples/complex run at once, each on its own subnet, and leave nothing behind", () => {
  const tag = suffix();
  const envs = [`a-${tag}`, `b-${tag}`];
  const profiles = [[], ["debug"]];
  const running = [
    ["api", "web"],
    ["api", "debug", "web"],
  ];
  const subnets = freeSubnets(2);
  const workspaces = envs.map(() => tempDir());
  const files = workspaces.map((ws) => join(ws, ".cilo/compose.yml"));
  const compose = (i: number, ...args: string[]) =>
    sh("docker-compose", ["-p", composeProjectName(PROJECT, envs[i]!), "-f", files[i]!, ...args], workspaces[i]);
  try {
    envs.forEach((env, i) => {
      const ws = workspaces[i]!;
      cpSync(example, ws, { recursive: true });
      const resolved = ok("docker-compose", ["-f", "compose.yml", "-f", "compose.override.yml", "config"], ws);
      const { yaml, services } = transformCompose({
        model: parse(resolved),
        project: PROJECT,
        env,
        home: HOME,
        dockerName: composeProjectName(PROJECT, env),
        subnet: subnets[i]!,
        profiles: profiles[i]!,
      });
      assert.equal(services, running[i]);
      mkdirSync(join(ws, ".cilo"), { recursive: true });
      writeFileSync(files[i]!, yaml);
      const check = compose(i, "config", "-q");
      assert.is(check.code, 0, check.stderr);
    });
    for (const i of [0, 1]) {
      const up = compose(i, "up", "-d");
      assert.is(up.code, 0, `up ${envs[i]}: ${up.stderr}`);
    }

    envs.forEach((env, i) => {
      const network = envNetworkName(PROJECT, env);
      const containers = labelled("container", env);
      const serviceOf = (name: string) => ok("docker", ["inspect", "-f", '{{index .Config.Labels "cilo.service"}}', name]).trim();
      assert.equal(containers.map(serviceOf).sort(), running[i], "debug runs only where its profile is enabled");
      for (const name of containers) {
        assert.is.not(name, "complex-web", "container_name is dropped");
        const [running, bindings, ip] = ok("docker", [
          "inspect",
          "-f",
          `{{.State.Running}}|{{json .HostConfig.PortBindings}}|{{(index .NetworkSettings.Networks "${network}").IPAddress}}`,
          name,
        ])
          .trim()
          .split("|");
        assert.is(running, "true", name);
        assert.ok(bindings === "{}" || bindings === "null", `${name} publishes ${bindings}`);
        assert.ok(inSubnet(ip!, subnets[i]!), `${name} has ${ip}, not in ${subnets[i]}`);
      }
      assert.equal(labelled("network", env), [network]);
      assert.equal(labelled("volume", env), [`${composeProjectName(PROJECT, env)}_complex-uploads`, `${composeProjectName(PROJECT, env)}_data`]);

      const exec = (service: string, ...cmd: string[]) => {
        const filters = ["--filter", `label=cilo.env=${env}`, "--filter", `label=cilo.service=${service}`];
        const [container] = ok("docker", ["ps", "-q", ...filters]).split("\n");
        return ok("docker", ["exec", container!, ...cmd]);
      };
      const apiEnv = exec("api", "env");
      for (const line of [
        "GREETING=hello from complex",
        "API_PORT=8080",
        "APP_NAME=complex",
        "LOG_LEVEL=debug",
        "FROM_OVERRIDE=true",
        "DB_URL=postgres://db.internal:5432/app",
        "FEATURE_FLAGS=search,export",
        "ROLE=api",
      ]) {
        assert.ok(apiEnv.split("\n").includes(line), `api lacks ${line}`);
      }
      const webEnv = exec("web", "env").split("\n");
      for (const line of ["ROLE=web", "API_URL=http://api:8080", "LOG_LEVEL=info", "APP_NAME=complex"]) {
        assert.ok(webEnv.includes(line), `web lacks ${line}`);
      }
      assert.is(exec("web", "cat", "/www/index.html").trim(), "<h1>web talks to http://api:8080</h1>");
      assert.is(exec("web", "wget", "-q", "-O", "-", "http://api:8080/health").trim(), "ok");
    });
  } finally {
    for (const i of [0, 1]) compose(i, "down", "-v", "--remove-orphans", "-t", "1");
  }
  try {
    for (const env of envs) {
      for (const kind of ["container", "network", "volume"] as const) {
        assert.equal(labelled(kind, env), [], `${kind}s of ${env} remain`);
      }
    }
  } finally {
    for (const ws of workspaces) removeDir(ws);
  }
});

test.run();
