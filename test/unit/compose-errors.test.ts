// Readable compose failures (issue 14 items 3b, 3e): an invalid project shows compose's whole
// complaint with the user's file and line; a failed pull names the service and the image.
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { invalidComposeMessage, pullFailure } from "../../src/core/compose/compose-errors.ts";
import { removeDir, tempDir } from "../helpers/cli.ts";

const COMPOSE = `services:
  web:
    image: busybox
    ports: "abc"
    foo: bar
  db:
    image: postgres
    environment: 7
`;

function project(): { src: string; ws: string; dir: string } {
  const dir = tempDir("cilo-compose-errors-");
  const src = join(dir, "src");
  const ws = join(dir, "home", "envs", "shop", "x");
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, "docker-compose.yml"), COMPOSE);
  mkdirSync(join(ws, ".."), { recursive: true });
  cpSync(src, ws, { recursive: true });
  return { src, ws, dir };
}

test("compose v1: every issue after 'is invalid because:', each at the user's file and line", () => {
  const { src, ws, dir } = project();
  try {
    const out = `The Compose file './docker-compose.yml' is invalid because:
services.web.ports contains an invalid type, it should be an array
Unsupported config option for services.web: 'foo'
services.db.environment contains an invalid type, it should be an object, or an array
`;
    const f = join(src, "docker-compose.yml");
    assert.is(
      invalidComposeMessage(out, { dir: ws, files: ["docker-compose.yml"], sourceDir: src }),
      `${f}:4: services.web.ports contains an invalid type, it should be an array; ${f}:5: Unsupported config option for services.web: 'foo'; ${f}:8: services.db.environment contains an invalid type, it should be an object, or an array`,
    );
  } finally {
    removeDir(dir);
  }
});

test("a workspace copy that differs from the user's file is named itself (its lines are not the user's)", () => {
  const { src, ws, dir } = project();
  try {
    writeFileSync(join(src, "docker-compose.yml"), `# edited since\n${COMPOSE}`);
    const msg = invalidComposeMessage(
      "ERROR: The Compose file './docker-compose.yml' is invalid because:\nUnsupported config option for services.web: 'foo'\n",
      {
        dir: ws,
        files: ["docker-compose.yml"],
        sourceDir: src,
      },
    );
    assert.is(msg, `${join(ws, "docker-compose.yml")}:5: Unsupported config option for services.web: 'foo'`);
  } finally {
    removeDir(dir);
  }
});

test("YAML syntax errors (v1 and v2) keep their positions, in the user's file", () => {
  const { src, ws, dir } = project();
  try {
    const f = join(src, "docker-compose.yml");
    const v1 = `yaml.parser.ParserError: while parsing a flow sequence
  in "./docker-compose.yml", line 4, column 14
expected ',' or ']', but got ':'
  in "./docker-compose.yml", line 5, column 5
`;
    assert.is(
      invalidComposeMessage(v1, { dir: ws, files: ["docker-compose.yml"], sourceDir: src }),
      `yaml.parser.ParserError: while parsing a flow sequence at ${f}:4:14; expected ',' or ']', but got ':' at ${f}:5:5`,
    );
    assert.is(
      invalidComposeMessage("yaml: line 4: did not find expected ',' or ']'\n", { dir: ws, files: ["docker-compose.yml"], sourceDir: src }),
      `${f}:4: did not find expected ',' or ']'`,
    );
  } finally {
    removeDir(dir);
  }
});

test("compose v2's 'validating <file>:' and other messages name the user's folder, not the workspace", () => {
  const { src, ws, dir } = project();
  try {
    const f = join(src, "docker-compose.yml");
    assert.is(
      invalidComposeMessage(`validating ${join(ws, "docker-compose.yml")}: services.web additional properties 'foo' not allowed\n`, {
        dir: ws,
        files: ["docker-compose.yml"],
        sourceDir: src,
      }),
      `${f}:5: services.web additional properties 'foo' not allowed`,
    );
    assert.is(
      invalidComposeMessage(`Couldn't find env file: ${join(ws, "nope.env")}\n`, { dir: ws, files: ["docker-compose.yml"], sourceDir: src }),
      `Couldn't find env file: ${join(src, "nope.env")}`,
    );
  } finally {
    removeDir(dir);
  }
});

const images = { web: "cilo-test/busybox:latest", api: "cilo-test/does-not-exist:1" };

test("pullFailure, compose v1: the service and image of the last 'Pulling' that got nowhere", () => {
  const out = `Pulling api (cilo-test/does-not-exist:1)...
Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host
`;
  assert.equal(pullFailure(out, images), {
    service: "api",
    image: "cilo-test/does-not-exist:1",
    reason: 'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host',
  });
  const pulledThenFailed = `Pulling api (cilo-test/does-not-exist:1)...
1: Pulling from cilo-test/does-not-exist
Digest: sha256:abc
Status: Downloaded newer image for cilo-test/does-not-exist:1
Creating x_api_1 ... error
ERROR: for api  Cannot start service api: port is already allocated
`;
  assert.is(pullFailure(pulledThenFailed, images), undefined);
  assert.is(pullFailure("ERROR: for web  Cannot start service web: oops\n", images), undefined);
});

test("pullFailure, compose v2: the service marked Error, or the image the daemon names", () => {
  const v2 = ` api Pulling
 api Error
Error response from daemon: pull access denied for cilo-test/does-not-exist, repository does not exist or may require 'docker login'
`;
  assert.equal(pullFailure(v2, images), {
    service: "api",
    image: "cilo-test/does-not-exist:1",
    reason: "pull access denied for cilo-test/does-not-exist, repository does not exist or may require 'docker login'",
  });
  assert.equal(pullFailure(" ✘ api Error context deadline exceeded   2.1s\n", images)?.reason, "context deadline exceeded");
  assert.equal(pullFailure("Error response from daemon: manifest for cilo-test/does-not-exist:1 not found: manifest unknown\n", images)?.service, "api");
});

test.run();
