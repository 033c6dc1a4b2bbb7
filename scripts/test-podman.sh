#!/usr/bin/env bash
# Prepares Podman for the integration tests' Podman pass (scripts/test.mjs, CILO_TEST_ENGINE=podman),
# idempotently:
#  1. installs podman when missing (Debian 12: Podman 4.3, netavark, aardvark-dns);
#  2. writes a containers.conf with `default_ulimits = []` (without it runc fails here with
#     "error setting rlimit type 7") and starts Podman's Docker-compatible API service on
#     $CILO_TEST_PODMAN_SOCK (default /run/cilo-test-podman/podman.sock) when it does not answer;
#  3. without systemd (which runs Podman's healthchecks), starts scripts/podman-healthchecks.sh;
#  4. imports the test images into Podman from the same root filesystems the Docker images are
#     (scripts/test-env.sh builds them; `docker export` of each, `podman import` with the same
#     ENV/CMD), so both engines run identical images.
# Needs scripts/test-env.sh to have run (the Docker images) and root for steps 1-3. Prints the
# socket's unix:// address on stdout; exit status non-zero when Podman cannot be made to answer.
set -euo pipefail

log() { printf 'test-podman: %s\n' "$*" >&2; }
SOCK="${CILO_TEST_PODMAN_SOCK:-/run/cilo-test-podman/podman.sock}"
DIR=$(dirname "$SOCK")
CONF="$DIR/containers.conf"
IMAGE="${CILO_TEST_IMAGE:-cilo-test/busybox:latest}"
GATEWAY_IMAGE="${CILO_TEST_GATEWAY_IMAGE:-cilo-test/caddy:latest}"

if ! command -v podman >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    log "podman is missing; run this script as root (or: sudo apt-get install -y podman)"
    exit 3
  fi
  log "installing podman"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq podman >/dev/null
fi

mkdir -p "$DIR"
if [ ! -f "$CONF" ]; then
  printf '[containers]\ndefault_ulimits = []\n' >"$CONF"
fi
export CONTAINERS_CONF="$CONF"

# /version makes Podman ask runc and conmon for theirs: seconds on a loaded machine.
podman_ok() { curl -sf --max-time 30 --unix-socket "$SOCK" http://podman/version 2>/dev/null | grep -q 'Podman Engine'; }
wait_ok() {
  for _ in $(seq 1 "$1"); do
    podman_ok && return 0
    sleep 1
  done
  return 1
}
# A service (or healthcheck loop) started from a checkout that is gone since runs in a deleted
# folder: conmon then fails every container start ("Failed to get working directory"). Stop it
# (it is this script's, by its pid file) so that it is started again below, from /.
in_deleted_dir() { [[ "$(readlink "/proc/$1/cwd" 2>/dev/null)" == *" (deleted)" ]]; }
for f in service healthchecks; do
  pid=$(cat "$DIR/$f.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && grep -q 'podman' "/proc/$pid/cmdline" 2>/dev/null && in_deleted_dir "$pid"; then
    log "the $f process (pid $pid) runs in a deleted folder; restarting it"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do [ -e "/proc/$pid" ] || break; sleep 0.5; done
  fi
done
if ! podman_ok; then
  # A service this script started earlier that is only slow is waited for, not doubled (a second
  # one would take the socket path, and the first one's exit would then unlink it).
  old=$(cat "$DIR/service.pid" 2>/dev/null || true)
  if [ -n "$old" ] && grep -q 'system.service' "/proc/$old/cmdline" 2>/dev/null; then
    log "waiting for podman system service (pid $old) to answer"
    if ! wait_ok 30; then
      log "it does not answer; restarting it"
      kill "$old" 2>/dev/null || true
      for _ in $(seq 1 20); do [ -e "/proc/$old" ] || break; sleep 0.5; done
    fi
  fi
fi
if ! podman_ok; then
  log "starting podman system service on $SOCK"
  rm -f "$SOCK"
  # From /, not the caller's folder: the service outlives this checkout (see in_deleted_dir).
  (cd / && exec setsid nohup podman system service --time=0 "unix://$SOCK" >"$DIR/service.log" 2>&1 </dev/null) &
  echo $! >"$DIR/service.pid"
  if ! wait_ok 60; then
    log "podman system service did not answer within 60 s; its log:"
    tail -n 20 "$DIR/service.log" >&2 || true
    exit 3
  fi
fi

# Without systemd Podman never runs healthchecks: a loop runs them (scripts/podman-healthchecks.sh).
if [ ! -S /run/systemd/private ]; then
  hc=$(cat "$DIR/healthchecks.pid" 2>/dev/null || true)
  if [ -z "$hc" ] || ! grep -q 'podman-healthchecks' "/proc/$hc/cmdline" 2>/dev/null; then
    log "starting the healthcheck loop (no systemd here to run Podman's healthcheck timers)"
    # A copy under $DIR, run from /: the loop outlives this checkout too.
    cp "$(dirname "$0")/podman-healthchecks.sh" "$DIR/podman-healthchecks.sh"
    (cd / && exec setsid nohup bash "$DIR/podman-healthchecks.sh" >/dev/null 2>&1 </dev/null) &
    echo $! >"$DIR/healthchecks.pid"
  fi
fi

# The same rootfs as the Docker image, with the same ENV/CMD/WORKDIR, when Podman lacks this revision.
import_from_docker() {
  local image=$1
  shift
  local want have
  want=$(docker image inspect --format '{{ index .Config.Labels "cilo.test.image.revision" }}' "$image")
  have=$(podman image inspect --format '{{ index .Config.Labels "cilo.test.image.revision" }}' "$image" 2>/dev/null || true)
  [ "$want" = "$have" ] && return 0
  log "importing $image into podman (revision $want)"
  local cid
  cid=$(docker create "$image")
  docker export "$cid" | podman import -q "$@" --change "LABEL cilo.test.image.revision=$want" - "$image" >/dev/null
  docker rm "$cid" >/dev/null
}
import_from_docker "$IMAGE" --change 'ENV PATH=/bin:/usr/bin:/sbin' --change 'CMD ["sh"]'
import_from_docker "$GATEWAY_IMAGE" \
  --change 'ENV PATH=/bin:/usr/bin' \
  --change 'ENV XDG_DATA_HOME=/data' \
  --change 'ENV XDG_CONFIG_HOME=/config' \
  --change 'WORKDIR /srv' \
  --change 'CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]'

log "ready: $(podman version --format 'podman {{.Client.Version}}'), API unix://$SOCK, $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /')"
echo "unix://$SOCK"
