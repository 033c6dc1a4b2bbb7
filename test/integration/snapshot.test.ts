// Volume snapshots and seeded creates (issue 18): a volume written in env A is snapshotted and
// seeds B and C, which read it back byte-identical and write independently; restore brings B
// back; an interrupted snapshot is never listed; a full disk is one line and leaves nothing; the tar path through a helper container and
// --seed-from work on the same engine; doctor reports and removes a killed snapshot's folder.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cilo, removeDir, tempDir } from "../helpers/cli.ts";
import { freePort, labelled } from "../helpers/docker.ts";
import { ONE_VOLUME_COMPOSE } from "../helpers/volume-project.ts";

const rand = Math.random().toString(36).slice(2, 7);
const project = `snap-${rand}`;
const home = tempDir("cilo-snap-");
const work = tempDir("cilo-snap-src-");
const src = join(work, project);
/** Size of the big file written into A's volume; the acceptance run sets CILO_TEST_SNAPSHOT_MB=1024 (about 12 min on 2 loaded cores). */
const MB = Number(process.env["CILO_TEST_SNAPSHOT_MB"] ?? 256);
const env = { CILO_HELPER_IMAGE: "cilo-test/busybox:latest" };

function run(args: string[], extra: Record<string, string> = {}) {
  return cilo(args, { home, cwd: src, env: { ...env, ...extra } });
}

function ok(args: string[], extra: Record<string, string> = {}) {
  const r = run(args, extra);
  assert.is(r.code, 0, `cilo ${args.join(" ")} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** The Docker volume of an env and its folder on this (local) engine. */
function volumeOf(e: string): { name: string; dir: string; labels: Record<string, string> } {
  const names = labelled("volume", `cilo.project=${project}`, `cilo.env=${e}`);
  assert.is(names.length, 1, `one volume for ${e}: ${names.join(", ")}`);
  const [info] = JSON.parse(execFileSync("docker", ["volume", "inspect", names[0]!], { encoding: "utf8" }));
  return { name: info.Name, dir: info.Mountpoint, labels: info.Labels ?? {} };
}

function sha256(file: string): string {
  const h = createHash("sha256");
  const fd = openSync(file, "r");
  const buf = Buffer.alloc(8 << 20);
  try {
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

function containerState(e: string): string {
  const ids = labelled("container", `cilo.project=${project}`, `cilo.env=${e}`);
  assert.is(ids.length, 1);
  return execFileSync("docker", ["inspect", "-f", "{{.State.Status}}", ids[0]!], { encoding: "utf8" }).trim();
}

let bigSum = "";

test.before(async () => {
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, "docker-compose.yml"), ONE_VOLUME_COMPOSE);
  ok(["init", "--dns-port", String(await freePort())]);
});

test.after(() => {
  for (const e of ["a", "b", "c", "d", "e"]) run(["destroy", `${project}/${e}`, "--force"]);
  run(["dns", "stop"]);
  for (const d of [home, work]) removeDir(d);
});

test("a volume written in A is snapshotted (services paused, then running again)", () => {
  ok(["create", "a"]);
  ok(["up", "a", "--wait"]);
  const a = volumeOf("a");
  // A big file of pseudo-random blocks, a small file owned by another user, a nested folder.
  const fd = openSync(join(a.dir, "big.bin"), "w");
  const block = randomBytes(1 << 20);
  for (let i = 0; i < MB; i++) {
    block.writeUInt32BE(i, 0);
    writeSync(fd, block);
  }
  closeSync(fd);
  mkdirSync(join(a.dir, "nested"));
  writeFileSync(join(a.dir, "nested", "owned"), "by 999\n");
  chownSync(join(a.dir, "nested", "owned"), 999, 999);
  bigSum = sha256(join(a.dir, "big.bin"));

  const r = ok(["snapshot", "create", "a", "--name", "s1", "--json"]);
  const manifest = JSON.parse(r.stdout);
  assert.is(manifest.name, "s1");
  assert.is(manifest.consistency, "paused");
  assert.equal(manifest.source, { project, env: "a", compose_project: manifest.source.compose_project });
  const [vol] = manifest.volumes;
  assert.is(vol.key, "data");
  assert.ok(["reflink", "copy"].includes(vol.path), vol.path);
  assert.ok(vol.bytes >= MB << 20, `${vol.bytes} bytes`);
  assert.ok(vol.bytes_per_s > 0);
  assert.match(manifest.checksum, /^[0-9a-f]{64}$/);
  assert.is(containerState("a"), "running", "the paused service runs again");
  console.log(`snapshot: ${MB} MiB written in A (sha256 ${bigSum.slice(0, 16)}…), snapshot s1 by ${vol.path} at ${(vol.bytes_per_s / 1e6).toFixed(0)} MB/s`);
  const list = JSON.parse(ok(["snapshot", "list", "--json"]).stdout);
  assert.equal(
    list.map((s: { name: string }) => s.name),
    ["s1"],
  );
});

test("B and C seeded from the snapshot read it back byte-identical, with owners; compose takes the volumes as its own", () => {
  for (const e of ["b", "c"]) {
    const r = ok(["create", e, "--seed", "s1", "--json"]);
    const out = JSON.parse(r.stdout);
    assert.is(out.seeded.snapshot, "s1");
    assert.is(out.seeded.volumes.length, 1);
    assert.ok(out.seeded.volumes[0].bytes_per_s > 0);
    const v = volumeOf(e);
    assert.is(v.labels["cilo.home"] !== undefined && v.labels["cilo.env"], e, "the seeded volume carries cilo's labels");
    const up = ok(["up", e, "--wait"]);
    assert.not.match(up.stderr, /already exists but was not created by Docker Compose/);
    assert.not.match(up.stderr, /Creating volume/);
    assert.is(sha256(join(v.dir, "big.bin")), bigSum, `${e}: big.bin`);
    console.log(`snapshot: ${e} seeded from s1 by ${out.seeded.volumes[0].path}, big.bin sha256 ${bigSum.slice(0, 16)}… as in A`);
    const owned = statSync(join(v.dir, "nested", "owned"));
    assert.equal([owned.uid, owned.gid], [999, 999], `${e}: owner kept`);
    assert.is(readFileSync(join(v.dir, "boot.log"), "utf8"), "started\nstarted\n", `${e}: A's boot line, then its own`);
  }
});

test("a write in B is not seen in A or C; restore is refused while B runs, and with --stop brings B back", () => {
  ok(["exec", "b", "db", "sh", "-c", "echo mine > /data/only-b"]);
  assert.ok(existsSync(join(volumeOf("b").dir, "only-b")));
  assert.not.ok(existsSync(join(volumeOf("a").dir, "only-b")));
  assert.not.ok(existsSync(join(volumeOf("c").dir, "only-b")));

  const busy = run(["snapshot", "restore", "b", "s1"]);
  assert.is(busy.code, 2, busy.stderr);
  assert.match(busy.stderr, /--stop/);
  assert.ok(existsSync(join(volumeOf("b").dir, "only-b")), "a refused restore changes nothing");

  const r = ok(["snapshot", "restore", "b", "s1", "--stop", "--json"]);
  assert.is(JSON.parse(r.stdout).volumes.length, 1);
  const b = volumeOf("b");
  assert.not.ok(existsSync(join(b.dir, "only-b")), "B's own write is gone");
  assert.is(sha256(join(b.dir, "big.bin")), bigSum);
  assert.is(containerState("b"), "running", "the stopped service is started again");
  assert.equal(
    readdirSync(join(b.dir, "..")).filter((n) => n.includes("cilo-restore")),
    [],
    "no restore folder left beside the volume",
  );
});

test("an interrupted snapshot leaves nothing listed", () => {
  const r = run(["snapshot", "create", "c", "--name", "s2", "--live"], { CILO_FAILPOINT: "snapshot:volume-copied" });
  assert.ok(r.code !== 0, "killed");
  const names = JSON.parse(ok(["snapshot", "list", "--json"]).stdout).map((s: { name: string }) => s.name);
  assert.equal(names, ["s1"]);
  assert.is(run(["snapshot", "restore", "c", "s2", "--stop"]).code, 2, "not usable either");
  const leftover = (doc: { findings: { id: string }[] }) => doc.findings.filter((f) => f.id === "snapshot-leftover").length;
  assert.is(leftover(JSON.parse(run(["doctor", "--json"]).stdout)), 1, "doctor reports the half-made folder");
  run(["doctor", "--fix"]);
  assert.is(leftover(JSON.parse(run(["doctor", "--json"]).stdout)), 0, "doctor --fix deletes it");
  assert.equal(
    readdirSync(join(home, "snapshots")).filter((n) => n.startsWith(".tmp-")),
    [],
  );
});

test("a full disk: one line, exit 1, nothing listed or half-made, the paused service running again", () => {
  // A 16 MB file system over the snapshots folder: A's volume holds MB (≥ 16) megabytes, so the
  // copy runs out of space part-way (reflink is impossible there: tmpfs, so the copy path runs).
  const dir = join(home, "snapshots");
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m", "cilo-test-full", dir]);
  try {
    const r = run(["snapshot", "create", "a", "--name", "full"]);
    assert.is(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /^cilo: The disk is full/m);
    assert.match(r.stderr, /^hint: .*space/m);
    assert.is(r.stderr.split("\n").filter((l) => l.startsWith("cilo:")).length, 1, r.stderr);
    assert.equal(readdirSync(dir), [], "nothing half-made left on the full disk");
    assert.equal(JSON.parse(ok(["snapshot", "list", "--json"]).stdout), []);
    assert.is(containerState("a"), "running", "the paused service runs again");
  } finally {
    execFileSync("umount", [dir]);
  }
  assert.equal(
    JSON.parse(ok(["snapshot", "list", "--json"]).stdout).map((s: { name: string }) => s.name),
    ["s1"],
    "the snapshots kept before are untouched",
  );
});

test("the tar path through a helper container: snapshot and seed, no helper left", () => {
  unlinkSync(join(volumeOf("c").dir, "big.bin"));
  writeFileSync(join(volumeOf("c").dir, "c-only"), "c\n");
  const manifest = JSON.parse(ok(["snapshot", "create", "c", "--name", "s3", "--method", "tar", "--json"]).stdout);
  assert.is(manifest.volumes[0].path, "tar");
  assert.is(manifest.volumes[0].format, "tar");
  const out = JSON.parse(ok(["create", "d", "--seed", "s3", "--json"]).stdout);
  assert.is(out.seeded.volumes[0].path, "tar");
  const d = volumeOf("d");
  assert.is(readFileSync(join(d.dir, "c-only"), "utf8"), "c\n");
  const owned = statSync(join(d.dir, "nested", "owned"));
  assert.equal([owned.uid, owned.gid], [999, 999], "owner kept through tar");
  assert.not.ok(existsSync(join(d.dir, "big.bin")));
  assert.equal(labelled("container", "cilo.helper"), [], "helper containers are removed");
});

test("--seed-from copies another env's volumes in one step and keeps no snapshot", () => {
  const out = JSON.parse(ok(["create", "e", "--seed-from", "d", "--json"]).stdout);
  assert.is(out.seeded.from_env, "d");
  assert.is(readFileSync(join(volumeOf("e").dir, "c-only"), "utf8"), "c\n");
  const names = JSON.parse(ok(["snapshot", "list", "--json"]).stdout).map((s: { name: string }) => s.name);
  assert.equal(names, ["s1", "s3"]);
});

test("bad input: an unknown snapshot or method is exit 2 and records nothing", () => {
  const r = run(["create", "zz", "--seed", "nope"]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /no snapshot "nope"/);
  // A whole line: the random project name may itself contain "zz".
  assert.not.match(ok(["list", "--format", "quiet"]).stdout, /\/zz$/m);
  assert.is(run(["snapshot", "create", "a", "--method", "warp"]).code, 2);
  assert.is(run(["snapshot", "rm", "nope"]).code, 2);
  ok(["snapshot", "rm", "s3"]);
});

test.run();
