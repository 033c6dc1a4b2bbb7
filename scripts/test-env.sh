#!/usr/bin/env bash
# Prepares this machine for cilo's integration tests and examples, idempotently:
#  1. installs what is missing (docker.io, docker-compose, dnsmasq-base, dnsutils, busybox-static, git, rsync, …);
#  2. starts dockerd when no engine answers;
#  3. builds the offline test images cilo-test/busybox:latest and, from Debian's caddy package,
#     the gateway image cilo-test/caddy:latest (no registry is needed), and from Debian's
#     postgresql package cilo-test/postgres:latest (scripts/test-postgres-image.sh).
# Needs root for steps 1-2 when something is missing. Exit status is non-zero when the engine
# cannot be made to answer, so CI fails instead of skipping.
set -euo pipefail

log() { printf 'test-env: %s\n' "$*" >&2; }
IMAGE="${CILO_TEST_IMAGE:-cilo-test/busybox:latest}"
# Bump when the image's contents change, so machines that have an older one rebuild it.
IMAGE_REVISION=2
GATEWAY_IMAGE="${CILO_TEST_GATEWAY_IMAGE:-cilo-test/caddy:latest}"
GATEWAY_IMAGE_REVISION=1

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker >/dev/null 2>&1 || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v dnsmasq >/dev/null 2>&1 || need+=(dnsmasq-base)
command -v dig >/dev/null 2>&1 || need+=(dnsutils)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v git >/dev/null 2>&1 || need+=(git)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
[ -x /usr/bin/caddy ] || need+=(caddy)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v rsync >/dev/null 2>&1 || need+=(rsync) # sync-early.test.ts: cilo sync's first push
command -v mkfs.xfs >/dev/null 2>&1 || need+=(xfsprogs) # snapshot-reflink.test.ts: an XFS (reflink) loop mount
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || need+=(postgresql) # shared-db.test.ts: cilo-test/postgres
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing packages: ${need[*]}; run this script as root (or: sudo apt-get install -y ${need[*]})"
    exit 3
  fi
  log "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

docker_ok() { timeout 10 docker info >/dev/null 2>&1; }
if ! docker_ok; then
  if [ "$(id -u)" != 0 ]; then
    log "the Docker engine does not answer and this is not root, so it cannot be started here"
    exit 3
  fi
  log "starting dockerd"
  mkdir -p /var/log
  setsid nohup dockerd >/var/log/cilo-test-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    docker_ok && break
    sleep 1
  done
  if ! docker_ok; then
    log "dockerd did not answer within 60 s; its log:"
    tail -n 20 /var/log/cilo-test-dockerd.log >&2 || true
    exit 3
  fi
fi

have_rev=$(docker image inspect --format '{{ index .Config.Labels "cilo.test.image.revision" }}' "$IMAGE" 2>/dev/null || true)
if [ "$have_rev" != "$IMAGE_REVISION" ]; then
  log "building $IMAGE from busybox-static"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/bin" "$root/tmp" "$root/www" "$root/etc" "$root/data" "$root/usr/bin" "$root/sbin"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  echo 'hello from cilo-test' >"$root/www/index.html"
  # busybox-static has no printenv applet; this one behaves like coreutils' for the common uses.
  cat >"$root/bin/printenv" <<'SH'
#!/bin/sh
[ "$#" -eq 0 ] && exec env
rc=0
for name in "$@"; do
  v=$(env | sed -n "s/^$name=//p")
  if env | grep -q "^$name="; then printf '%s\n' "$v"; else rc=1; fi
done
exit $rc
SH
  chmod +x "$root/bin/printenv"
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/bin:/usr/bin:/sbin' \
    --change 'CMD ["sh"]' \
    --change "LABEL cilo.test.image.revision=$IMAGE_REVISION" \
    - "$IMAGE" >/dev/null
fi
have_rev=$(docker image inspect --format '{{ index .Config.Labels "cilo.test.image.revision" }}' "$GATEWAY_IMAGE" 2>/dev/null || true)
if [ "$have_rev" != "$GATEWAY_IMAGE_REVISION" ]; then
  # The gateway for tests: Debian's caddy (a real reverse proxy) with its libraries, busybox for a
  # shell, and the CA bundle. The product's default is the official caddy:2 image.
  log "building $GATEWAY_IMAGE from Debian's caddy package"
  groot=$(mktemp -d)
  trap 'rm -rf "$groot" "${root:-}"' EXIT
  mkdir -p "$groot/bin" "$groot/usr/bin" "$groot/tmp" "$groot/data" "$groot/config" "$groot/etc/caddy" "$groot/etc/ssl/certs"
  cp /usr/bin/caddy "$groot/usr/bin/caddy"
  for lib in $(ldd /usr/bin/caddy | grep -o '/[^ ]*' | sort -u); do
    mkdir -p "$groot$(dirname "$lib")"
    cp -L "$lib" "$groot$lib"
  done
  cp /bin/busybox "$groot/bin/busybox"
  for applet in sh cat ls wget mkdir rm mv sleep echo env; do ln -sf busybox "$groot/bin/$applet"; done
  cp -L /etc/ssl/certs/ca-certificates.crt "$groot/etc/ssl/certs/ca-certificates.crt"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$groot/etc/passwd"
  echo 'root:x:0:' >"$groot/etc/group"
  chmod 1777 "$groot/tmp"
  tar -C "$groot" -c . | docker import \
    --change 'ENV PATH=/bin:/usr/bin' \
    --change 'ENV XDG_DATA_HOME=/data' \
    --change 'ENV XDG_CONFIG_HOME=/config' \
    --change 'WORKDIR /srv' \
    --change 'CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]' \
    --change "LABEL cilo.test.image.revision=$GATEWAY_IMAGE_REVISION" \
    - "$GATEWAY_IMAGE" >/dev/null
fi
bash "$(dirname "$0")/test-postgres-image.sh"
# Deno for the tests that run cilo under Deno (test/deno/); the demo (CILO_NO_DENO=1) needs none.
deno_version="no deno"
if [ "${CILO_NO_DENO:-}" != "1" ]; then
  deno_bin=$(bash "$(dirname "$0")/install-deno.sh")
  deno_version=$("$deno_bin" --version | head -n1)
fi
log "ready: ${deno_version}, $(docker version --format 'engine {{.Server.Version}} (API {{.Server.APIVersion}})'), $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /'), $(dnsmasq --version | head -n1 | cut -d' ' -f1-3)"
