// Snapshot + seed of a volume's data (issue 18): each measure is one snapshot (volume folder →
// snapshot folder) plus one seed (snapshot → new volume folder), as `cilo snapshot create` and
// `cilo create --seed` copy them, against plain tools doing the same two copies in the same run.
//   - XFS with reflinks (a loop device; needs root and mkfs.xfs): cilo's reflink clone at 100 MB,
//     1 GB and 4 GB (target ≤ 1 s and flat in size), against `cp -a --reflink=never` and cilo's
//     own plain copy;
//   - ext4 (the host's temp folder): cilo's `auto` (a plain parallel copy there) against `cp -a`
//     (target ≤ 1.2×);
//   - the tar stream through a helper container (remote engines, Docker Desktop) on the local engine,
//     against `cp -a` of the volume folders;
//   - end to end through the CLI (dist/cilo.mjs) on a third Docker engine whose data root is on XFS
//     (scripts/test-second-engine.sh as `cilo-e3`, its /var/lib/cilo-e3 an XFS loop mount that also
//     holds CILO_HOME): `cilo snapshot create` of an env's volume plus `cilo create --seed` of a new
//     env from it, at each size (target ≤ 1 s and flat), against `cp -a --reflink=never` of the
//     volume folder twice.
// Data is written and synced before each timing (a clone of dirty pages waits for writeback).
//   node --import tsx bench/snapshot.ts [--sizes 100,1024,4096] [--tar-mb 1024]
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readTextFile, resolveDockerEndpoint } from "../src/core/docker-endpoint.ts";
import { copyDir, tarToVolume, volumeToTar } from "../src/core/snapshot/volume-copy.ts";
import { DockerProvider } from "../src/providers/docker/docker-provider.ts";
import { ONE_VOLUME_COMPOSE } from "../test/helpers/volume-project.ts";
import { numberArg, printTable, sh, timeAsync, timeMs, type Row } from "./lib.ts";

const sizesArg = process.argv.indexOf("--sizes");
const SIZES = (sizesArg > 0 ? process.argv[sizesArg + 1]! : "100,1024,4096").split(",").map(Number);
const TAR_MB = numberArg("--tar-mb", 1024);
const IMAGE = process.env["CILO_HELPER_IMAGE"] ?? "cilo-test/busybox:latest";
const rows: Row[] = [];
const s = (ms: number) => ms / 1000;

/** A volume-like folder of `mb` MiB: four files of a quarter each, plus a few small ones. */
function fill(dir: string, mb: number): void {
  mkdirSync(join(dir, "base"), { recursive: true });
  const block = Buffer.alloc(1 << 20);
  for (let f = 0; f < 4; f++) {
    const fd = openSync(join(dir, "base", `rel${f}`), "w");
    for (let i = 0; i < mb / 4; i++) {
      block.writeUInt32BE(f * 1_000_000 + i, 0);
      writeSync(fd, block);
    }
    closeSync(fd);
  }
  for (let i = 0; i < 20; i++) execFileSync("sh", ["-c", `echo ${i} > ${join(dir, `small${i}`)}`]);
  sh("sync", ["-f", dir]);
}

/** Snapshot + seed by cilo's copier: two copies. */
async function ciloTwice(src: string, at: string, method: "reflink" | "copy" | "auto"): Promise<{ ms: number; path: string }> {
  let path = "";
  const ms = await timeAsync(async () => {
    await copyDir(src, join(at, "snap"), method);
    path = (await copyDir(join(at, "snap"), join(at, "seed"), method)).path;
  });
  rmSync(at, { recursive: true, force: true });
  return { ms, path };
}

/** The same two copies by `cp -a` (with extra flags). */
function cpTwice(src: string, at: string, flags: string[] = []): number {
  mkdirSync(at, { recursive: true });
  const ms = timeMs(() => {
    sh("cp", ["-a", ...flags, src, join(at, "snap")]);
    sh("cp", ["-a", ...flags, join(at, "snap"), join(at, "seed")]);
  });
  rmSync(at, { recursive: true, force: true });
  return ms;
}

async function xfsRows(): Promise<void> {
  if (process.getuid?.() !== 0) return console.log("XFS: skipped (needs root)");
  const base = mkdtempSync(join(tmpdir(), "cilo-bench-xfs-"));
  const mnt = join(base, "mnt");
  mkdirSync(mnt);
  const img = join(base, "fs.img");
  const need = Math.ceil((Math.max(...SIZES) * 2 + 1024 * 4) / 1024) + 2;
  sh("truncate", ["-s", `${need}G`, img]);
  const loop = sh("losetup", ["-f", "--show", img]).trim();
  try {
    sh("mkfs.xfs", ["-q", "-m", "reflink=1", loop]);
    sh("mount", [loop, mnt]);
    try {
      const reflinkSeconds: number[] = [];
      for (const mb of SIZES) {
        const src = join(mnt, `vol-${mb}`);
        fill(src, mb);
        const clone = await ciloTwice(src, join(mnt, "c"), "reflink");
        reflinkSeconds.push(s(clone.ms));
        if (mb <= 1024) {
          const never = cpTwice(src, join(mnt, "n"), ["--reflink=never"]);
          rows.push({
            what: `xfs ${mb} MB: reflink (${clone.path})`,
            value: s(clone.ms),
            unit: "s",
            versus: "cp -a --reflink=never",
            base: s(never),
            target: "≤ 1 s",
            ok: s(clone.ms) <= 1,
          });
          const plain = await ciloTwice(src, join(mnt, "p"), "copy");
          rows.push({
            what: `xfs ${mb} MB: cilo plain copy`,
            value: s(plain.ms),
            unit: "s",
            versus: "cp -a --reflink=never",
            base: s(never),
            target: "report",
            ok: true,
          });
        } else {
          rows.push({
            what: `xfs ${mb} MB: reflink (${clone.path})`,
            value: s(clone.ms),
            unit: "s",
            versus: `reflink ${SIZES[0]} MB`,
            base: reflinkSeconds[0]!,
            target: "≤ 1 s",
            ok: s(clone.ms) <= 1,
          });
        }
        rmSync(src, { recursive: true, force: true });
      }
    } finally {
      sh("umount", [mnt]);
    }
  } finally {
    sh("losetup", ["-d", loop]);
    rmSync(base, { recursive: true, force: true });
  }
}

async function ext4Rows(): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), "cilo-bench-ext4-"));
  try {
    for (const mb of SIZES.filter((m) => m <= 1024)) {
      const src = join(base, `vol-${mb}`);
      fill(src, mb);
      // Alternate the order, so that drifting load hits both.
      const cp1 = cpTwice(src, join(base, "cp"));
      const cilo1 = await ciloTwice(src, join(base, "cilo"), "auto");
      const cilo2 = await ciloTwice(src, join(base, "cilo"), "auto");
      const cp2 = cpTwice(src, join(base, "cp"));
      const cilo = Math.min(cilo1.ms, cilo2.ms);
      const cp = Math.min(cp1, cp2);
      rows.push({
        what: `ext4 ${mb} MB: cilo auto (${cilo1.path})`,
        value: s(cilo),
        unit: "s",
        versus: "cp -a",
        base: s(cp),
        target: "≤ 1.2×",
        ok: cilo <= cp * 1.2,
      });
      rmSync(src, { recursive: true, force: true });
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

async function tarRows(): Promise<void> {
  const provider = new DockerProvider(resolveDockerEndpoint(process.env, readTextFile), process.env);
  const tag = `cilo-bench-snap-${process.pid}`;
  const labels = { "cilo.bench": tag };
  const names = [`${tag}-src`, `${tag}-seed`];
  const base = mkdtempSync(join(tmpdir(), "cilo-bench-tar-"));
  try {
    await provider.createVolume({ name: names[0]!, labels });
    const src = (await provider.inspectVolume(names[0]!))!.mountpoint!;
    fill(src, TAR_MB);
    const file = join(base, "snap.tar");
    const ms = await timeAsync(async () => {
      await volumeToTar({ provider, image: IMAGE, labels }, names[0]!, file);
      await provider.createVolume({ name: names[1]!, labels });
      await tarToVolume({ provider, image: IMAGE, labels }, file, names[1]!);
    });
    const cp = cpTwice(src, join(base, "cp"));
    rows.push({ what: `tar via helper ${TAR_MB} MB (engine volume)`, value: s(ms), unit: "s", versus: "cp -a", base: s(cp), target: "report", ok: true });
  } finally {
    for (const n of names) await provider.removeVolume(n).catch(() => {});
    rmSync(base, { recursive: true, force: true });
  }
}

async function engineRows(): Promise<void> {
  if (process.getuid?.() !== 0) return console.log("engine on XFS: skipped (needs root)");
  const root = new URL("..", import.meta.url).pathname;
  const engine = { ...process.env, CILO_E2_NAME: "cilo-e3", CILO_E2_NET: "10.213.91", CILO_E2_BIP: "172.29.0.1/16" };
  const engineScript = join(root, "scripts/test-second-engine.sh");
  const lib = "/var/lib/cilo-e3";
  const base = mkdtempSync(join(tmpdir(), "cilo-bench-e3-"));
  const img = join(base, "fs.img");
  sh("truncate", ["-s", `${Math.ceil((Math.max(...SIZES) * 3) / 1024) + 6}G`, img]);
  const loop = sh("losetup", ["-f", "--show", img]).trim();
  try {
    sh("mkfs.xfs", ["-q", "-m", "reflink=1", loop]);
    sh("sh", ["-c", `"$0" purge >/dev/null 2>&1 || true`, engineScript], { env: engine });
    mkdirSync(lib, { recursive: true });
    sh("mount", [loop, lib]);
    try {
      sh("bash", [engineScript, "start"], { env: engine });
      const home = join(lib, "cilo-home");
      const project = join(lib, "src", "snapbench");
      mkdirSync(project, { recursive: true });
      writeFileSync(join(project, "docker-compose.yml"), ONE_VOLUME_COMPOSE);
      const env = { ...process.env, CILO_HOME: home, DOCKER_HOST: "unix:///var/run/cilo-e3.sock", CILO_GATEWAY: "off", NO_COLOR: "1" };
      const cilo = (...args: string[]) => sh(process.execPath, [join(root, "dist/cilo.mjs"), ...args], { env, cwd: project });
      const docker = (...args: string[]) => sh("docker", args, { env });
      try {
        cilo("init", "--dns-port", String(20_000 + Math.floor(Math.random() * 20_000)));
        cilo("create", "a");
        cilo("up", "a", "--wait");
        const volume = docker("volume", "ls", "-q", "--filter", "label=cilo.env=a").trim();
        const dir = docker("volume", "inspect", "-f", "{{.Mountpoint}}", volume).trim();
        const first: number[] = [];
        for (const mb of SIZES) {
          rmSync(join(dir, "base"), { recursive: true, force: true });
          fill(dir, mb);
          let snap: { volumes: { path: string; seconds: number }[] } = { volumes: [] };
          let seeded: { seeded: { volumes: { path: string; seconds: number }[] } } = { seeded: { volumes: [] } };
          const snapMs = timeMs(() => {
            snap = JSON.parse(cilo("snapshot", "create", "a", "--name", `s${mb}`, "--json"));
          });
          const seedMs = timeMs(() => {
            seeded = JSON.parse(cilo("create", `b${mb}`, "--seed", `s${mb}`, "--json"));
          });
          // The copies as cilo timed them (--json `seconds`): what the size can change. The rest of
          // each command (a Node process, pausing the service, creating the env) is reported apart.
          const copy = snap.volumes[0]!.seconds + seeded.seeded.volumes[0]!.seconds;
          const path = `${snap.volumes[0]!.path}, ${seeded.seeded.volumes[0]!.path}`;
          first.push(copy);
          const never = mb <= 1024 ? cpTwice(dir, join(lib, "cp"), ["--reflink=never"]) : undefined;
          rows.push({
            what: `engine on xfs ${mb} MB: snapshot + seed copies (${path}, cilo's --json)`,
            value: copy,
            unit: "s",
            versus: never !== undefined ? "cp -a --reflink=never, twice" : `the same at ${SIZES[0]} MB`,
            base: never !== undefined ? s(never) : first[0]!,
            target: "≤ 1 s",
            ok: copy <= 1,
          });
          rows.push({
            what: `engine on xfs ${mb} MB: cilo snapshot create, whole command`,
            value: s(snapMs),
            unit: "s",
            versus: `cilo create --seed, whole command`,
            base: s(seedMs),
            target: "report",
            ok: true,
          });
          cilo("destroy", `b${mb}`, "--force");
          cilo("snapshot", "rm", `s${mb}`);
        }
      } finally {
        spawnSync(process.execPath, [join(root, "dist/cilo.mjs"), "destroy", "a", "--force"], { env, cwd: project, stdio: "ignore" });
        spawnSync(process.execPath, [join(root, "dist/cilo.mjs"), "dns", "stop"], { env, cwd: project, stdio: "ignore" });
      }
    } finally {
      spawnSync("bash", [engineScript, "stop"], { env: engine, stdio: "ignore" });
      spawnSync("umount", [lib]);
      rmSync(lib, { recursive: true, force: true });
    }
  } finally {
    spawnSync("losetup", ["-d", loop]);
    rmSync(base, { recursive: true, force: true });
  }
}

await xfsRows();
await ext4Rows();
await tarRows();
await engineRows();
printTable("snapshot + seed of a volume's data (two copies each)", rows);
