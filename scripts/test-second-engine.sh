#!/usr/bin/env bash
# A second Docker engine on this machine, for tests that need cilo to talk to an engine other than
# the main one (Docker contexts, remote hosts, a dying engine). Idempotent; needs root.
#
#   scripts/test-second-engine.sh start    # netns + veth + dockerd + test images; no-op when it answers
#   scripts/test-second-engine.sh stop     # stops dockerd by its pid file, removes the veth and netns
#   scripts/test-second-engine.sh purge    # stop, then remove its data (images, containers) too
#   scripts/test-second-engine.sh status   # exit 0 when it answers; prints its addresses
#   scripts/test-second-engine.sh env      # prints DOCKER_HOST=… for `eval`
#
# The engine runs in the network namespace $NS (veth: host side $HOST_ADDR, namespace side
# $NS_ADDR on a private /24) and listens on unix://$SOCK and tcp://$NS_ADDR:2375 (plain, no TLS:
# test hosts only). Its state lives under $DATA, its runtime files under $EXEC. Containers there
# get no outside access (none is needed: the test image is loaded from the main engine).
# Overridable through the environment, for more engines side by side (each its own name and /24):
# CILO_E2_NAME, CILO_E2_NET (first three octets), CILO_E2_BIP, CILO_TEST_IMAGE, CILO_TEST_GATEWAY_IMAGE.
set -euo pipefail

NAME="${CILO_E2_NAME:-cilo-e2}"
NET="${CILO_E2_NET:-10.213.77}"
BIP="${CILO_E2_BIP:-172.30.0.1/16}"
IMAGE="${CILO_TEST_IMAGE:-cilo-test/busybox:latest}"
# The gateway's test image too (scripts/test-env.sh builds it), for tests of the gateway there.
GATEWAY_IMAGE="${CILO_TEST_GATEWAY_IMAGE:-cilo-test/caddy:latest}"
if ! [[ "$NAME" =~ ^[a-z][a-z0-9-]{0,13}$ && "$NET" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "test-second-engine: CILO_E2_NAME must be [a-z][a-z0-9-]{0,13} and CILO_E2_NET three octets" >&2
  exit 2
fi
NS="$NAME"
HOST_IF="${NAME//-/}h" # interface names: at most 15 characters
NS_IF="${NAME//-/}n"
HOST_ADDR="$NET.1"
NS_ADDR="$NET.2"
SOCK="/var/run/$NAME.sock"
PIDFILE="/var/run/$NAME.pid"
EXEC="/var/run/$NAME"
DATA="/var/lib/$NAME/docker"
LOG="/var/log/$NAME-dockerd.log"

log() { printf 'test-second-engine: %s\n' "$*" >&2; }
e2() { DOCKER_HOST="unix://$SOCK" DOCKER_CONTEXT='' timeout 10 docker "$@"; }
answers() { [ -S "$SOCK" ] && e2 version --format '{{.Server.Version}}' >/dev/null 2>&1; }
daemon_pid() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--pidfile $PIDFILE"; then
    echo "$pid"
  fi
}

# containerd shims of this engine's containerd (their -address is under $EXEC).
own_shims() {
  local p
  for p in /proc/[0-9]*; do
    tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q -- "containerd-shim.* -address $EXEC/containerd/containerd.sock" && echo "${p#/proc/}"
  done
  return 0
}

children_of() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(awk '{ print $4 }' "$p/stat" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
  done
  return 0
}

need_root() {
  if [ "$(id -u)" != 0 ]; then
    log "needs root (network namespaces and a second dockerd)"
    exit 3
  fi
}

setup_network() {
  [ -e "/var/run/netns/$NS" ] || ip netns add "$NS"
  if ! ip link show "$HOST_IF" >/dev/null 2>&1; then
    ip link add "$HOST_IF" type veth peer name "$NS_IF"
    ip link set "$NS_IF" netns "$NS"
  fi
  ip addr replace "$HOST_ADDR/24" dev "$HOST_IF"
  ip link set "$HOST_IF" up
  nsenter --net="/var/run/netns/$NS" ip addr replace "$NS_ADDR/24" dev "$NS_IF"
  nsenter --net="/var/run/netns/$NS" ip link set "$NS_IF" up
  nsenter --net="/var/run/netns/$NS" ip link set lo up
  nsenter --net="/var/run/netns/$NS" ip route replace default via "$HOST_ADDR"
}

load_image() {
  local image="$1" want have
  want=$(timeout 10 docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  if [ -z "$want" ]; then
    log "the main engine has no $image (run scripts/test-env.sh first); not loading it"
    return 0
  fi
  have=$(e2 image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  if [ "$have" != "$want" ]; then
    log "loading $image"
    docker save "$image" | DOCKER_HOST="unix://$SOCK" DOCKER_CONTEXT='' docker load >/dev/null
  fi
}

start() {
  need_root
  setup_network
  if ! answers; then
    if [ -n "$(daemon_pid)" ]; then
      log "dockerd (pid $(daemon_pid)) is starting; waiting"
    else
      mkdir -p "$DATA" "$EXEC" "$(dirname "$LOG")"
      rm -f "$SOCK"
      # Own containerd (under $EXEC) and namespaces, so nothing is shared with the main engine.
      setsid nohup nsenter --net="/var/run/netns/$NS" dockerd \
        --data-root "$DATA" --exec-root "$EXEC" --pidfile "$PIDFILE" \
        -H "unix://$SOCK" -H "tcp://$NS_ADDR:2375" \
        --bip "$BIP" --containerd-namespace "$NAME" --containerd-plugins-namespace "$NAME-plugins" \
        >>"$LOG" 2>&1 </dev/null &
    fi
    for _ in $(seq 1 120); do
      answers && break
      sleep 0.5
    done
    if ! answers; then
      log "the second engine did not answer within 60 s; its log ($LOG):"
      tail -n 20 "$LOG" >&2 || true
      exit 3
    fi
  fi
  load_image "$IMAGE"
  load_image "$GATEWAY_IMAGE"
  status
}

stop() {
  need_root
  local pid
  pid=$(daemon_pid)
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
      [ -d "/proc/$pid" ] || break
      sleep 0.5
    done
    if [ -d "/proc/$pid" ]; then
      log "dockerd (pid $pid) did not stop within 30 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  # After a crash (kill -9) its containerd, shims and containers may be left: end them, by pid.
  local cpid shim child
  cpid=$(cat "$EXEC/containerd/containerd.pid" 2>/dev/null || true)
  if [ -n "$cpid" ] && [ -r "/proc/$cpid/cmdline" ] && tr '\0' ' ' <"/proc/$cpid/cmdline" | grep -q -- "$EXEC/containerd"; then
    kill -KILL "$cpid" 2>/dev/null || true
  fi
  for shim in $(own_shims); do
    for child in $(children_of "$shim"); do kill -KILL "$child" 2>/dev/null || true; done
    kill -KILL "$shim" 2>/dev/null || true
  done
  # Mounts it left (container root file systems, network namespaces), innermost first.
  awk -v a="$(realpath -m "$EXEC")/" -v b="$(realpath -m "/var/lib/$NAME")/" 'index($2, a) == 1 || index($2, b) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -f "$PIDFILE" "$SOCK"
  ip link del "$HOST_IF" 2>/dev/null || true
  [ -e "/var/run/netns/$NS" ] && ip netns del "$NS"
  log "stopped"
}

status() {
  if answers; then
    echo "$NAME: engine $(e2 version --format '{{.Server.Version}}') (pid $(daemon_pid)) at unix://$SOCK and tcp://$NS_ADDR:2375"
  else
    echo "$NAME: not answering"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  purge)
    stop
    rm -rf "/var/lib/$NAME" "$EXEC" "$LOG"
    ;;
  status) status ;;
  env) echo "DOCKER_HOST=unix://$SOCK" ;;
  *)
    echo "usage: $0 start|stop|purge|status|env" >&2
    exit 2
    ;;
esac
