#!/usr/bin/env bash
# A "remote" Docker host on this machine, for tests of cilo's hosts (issue 17): the second engine
# (scripts/test-second-engine.sh, network namespace cilo-e2, tcp://10.213.77.2:2375) also reached
# over SSH, as ssh://root@10.213.77.2. Idempotent; needs root.
#
#   scripts/test-remote.sh start    # second engine + an sshd in its namespace; no-op when both answer
#   scripts/test-remote.sh stop     # stops that sshd by its pid file (leaves the second engine)
#   scripts/test-remote.sh status   # exit 0 when `docker info` answers over ssh://
#   scripts/test-remote.sh env      # prints `export PATH=…` for `eval`: the ssh wrapper first
#
# The sshd (Debian's openssh-server, installed with apt-get when missing, with rsync and python3-paramiko
# when Debian's docker-compose 1.29 lacks it) runs inside the namespace
# and listens ONLY on its address ($NS_ADDR:$PORT). Everything it and the client use lives in $DIR:
# host key, client key (root's only authorized key), sshd_config, ssh_config, known_hosts, pid.
# sshd gives every session DOCKER_HOST=unix:///var/run/cilo-e2.sock (sshd_config SetEnv): the
# namespace shares the host's file system, so `docker system dial-stdio` on the "remote" side is
# the host's docker CLI talking to the second engine, never to the main one.
#
# How clients find the key without touching ~/.ssh: $DIR/bin/ssh is a wrapper running
# `/usr/bin/ssh -F $DIR/ssh_config "$@"`. Put $DIR/bin first on PATH (`eval "$(… env)"`) and every
# ssh client that runs `ssh` from PATH uses it: the docker CLI, docker-compose (it shells out to
# ssh unless COMPOSE_PARAMIKO_SSH=1), rsync -e ssh, and cilo itself (docs/remote.md).
# Overridable: CILO_REMOTE_DIR (default /run/cilo-test-remote), CILO_REMOTE_PORT (default 22),
# and the second engine's CILO_E2_NAME / CILO_E2_NET.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
NAME="${CILO_E2_NAME:-cilo-e2}"
NET="${CILO_E2_NET:-10.213.77}"
NS_ADDR="$NET.2"
PORT="${CILO_REMOTE_PORT:-22}"
DIR="${CILO_REMOTE_DIR:-/run/cilo-test-remote}"
if ! [[ "$PORT" =~ ^[0-9]{1,5}$ && "$DIR" =~ ^/[A-Za-z0-9._/-]+$ ]]; then
  echo "test-remote: CILO_REMOTE_PORT must be a port and CILO_REMOTE_DIR an absolute path" >&2
  exit 2
fi
PIDFILE="$DIR/sshd.pid"
CONFIG="$DIR/sshd_config"
CLIENT_CONFIG="$DIR/ssh_config"

log() { printf 'test-remote: %s\n' "$*" >&2; }
rssh() { timeout 15 /usr/bin/ssh -F "$CLIENT_CONFIG" "root@$NS_ADDR" "$@"; }
answers() {
  [ -f "$CLIENT_CONFIG" ] && PATH="$DIR/bin:$PATH" DOCKER_HOST="ssh://root@$NS_ADDR" DOCKER_CONTEXT='' timeout 20 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}
sshd_pid() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "-f $CONFIG"; then
    echo "$pid"
  fi
}

need_root() {
  if [ "$(id -u)" != 0 ]; then
    log "needs root (an sshd in the second engine's network namespace)"
    exit 3
  fi
}

# Debian's docker-compose 1.29 (python3-docker) refuses ssh:// without paramiko, even though it
# shells out to the ssh binary by default: install it beside openssh-server.
compose_lacks_paramiko() {
  [ "$(head -n 1 "$(command -v docker-compose 2>/dev/null || echo /dev/null)" 2>/dev/null)" = "#!/usr/bin/python3" ] || return 1
  ! /usr/bin/python3 -c 'import paramiko' 2>/dev/null
}

install_packages() {
  local want=()
  [ -x /usr/sbin/sshd ] || want+=(openssh-server)
  compose_lacks_paramiko && want+=(python3-paramiko)
  # cilo sync pushes a remote env's workspace with rsync over ssh (both ends: the namespace shares this machine's files).
  command -v rsync >/dev/null || want+=(rsync)
  [ "${#want[@]}" = 0 ] && return 0
  log "installing ${want[*]}"
  # Debian's postinst may try to start the system's sshd; policy-rc.d 101 forbids it.
  local policy=/usr/sbin/policy-rc.d made=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${want[@]}" >/dev/null ||
    { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${want[@]}" >/dev/null; }
  [ -n "$made" ] && rm -f "$policy"
  [ -x /usr/sbin/sshd ] || { log "openssh-server did not install /usr/sbin/sshd"; exit 3; }
}

write_files() {
  mkdir -p "$DIR/bin" /run/sshd
  chmod 700 "$DIR"
  [ -f "$DIR/host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C cilo-test-remote-host -f "$DIR/host_ed25519_key"
  [ -f "$DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C cilo-test-remote-client -f "$DIR/id_ed25519"
  cp "$DIR/id_ed25519.pub" "$DIR/authorized_keys"
  chmod 600 "$DIR/authorized_keys"
  echo "$NS_ADDR $(cut -d' ' -f1,2 "$DIR/host_ed25519_key.pub")" >"$DIR/known_hosts"
  [ "$PORT" = 22 ] || echo "[$NS_ADDR]:$PORT $(cut -d' ' -f1,2 "$DIR/host_ed25519_key.pub")" >>"$DIR/known_hosts"
  cat >"$CONFIG" <<EOF
# Written by scripts/test-remote.sh: a test sshd for cilo's remote hosts. Key login for root only.
Port $PORT
ListenAddress $NS_ADDR
HostKey $DIR/host_ed25519_key
PidFile $PIDFILE
AuthorizedKeysFile $DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
X11Forwarding no
PrintMotd no
# Every ssh of cilo, compose and rsync shares one connection (ControlMaster): compose opens a
# session per container in parallel, past sshd's default 10 ("Session open refused by peer").
MaxSessions 100
# SHLVL=1: bash (root's shell) then skips ~/.bashrc, which it otherwise reads for every ssh command
# (stdin is a socket) and which may be slow (pyenv init on this machine: ~4 s per command).
SetEnv DOCKER_HOST=unix:///var/run/$NAME.sock SHLVL=1
EOF
  cat >"$CLIENT_CONFIG" <<EOF
# Written by scripts/test-remote.sh; used through $DIR/bin/ssh (ssh -F), never ~/.ssh.
Host $NS_ADDR
  User root
  Port $PORT
  IdentityFile $DIR/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $DIR/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 5
  LogLevel ERROR
  # One connection shared by every ssh of the tests (docker dial-stdio per request, compose, rsync).
  ControlMaster auto
  ControlPath $DIR/cm-%C
  ControlPersist 30s
Host *
  BatchMode yes
  ConnectTimeout 5
  UserKnownHostsFile $DIR/known_hosts
  GlobalKnownHostsFile /dev/null
EOF
  printf '#!/bin/sh\n# scripts/test-remote.sh: ssh with the test config (ssh -F), for every client that runs ssh from PATH.\nexec /usr/bin/ssh -F %s "$@"\n' "$CLIENT_CONFIG" >"$DIR/bin/ssh"
  chmod 755 "$DIR/bin/ssh"
}

stop_sshd() {
  local pid
  pid=$(sshd_pid)
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do
      [ -d "/proc/$pid" ] || break
      sleep 0.25
    done
  fi
  rm -f "$PIDFILE"
}

start() {
  need_root
  bash "$HERE/test-second-engine.sh" start >/dev/null
  install_packages
  write_files
  if ! answers; then
    # An sshd left from an earlier namespace (the engine was restarted) listens nowhere useful.
    stop_sshd
    /usr/sbin/sshd -t -f "$CONFIG"
    nsenter --net="/var/run/netns/$NAME" /usr/sbin/sshd -f "$CONFIG"
    for _ in $(seq 1 40); do
      answers && break
      sleep 0.25
    done
    if ! answers; then
      log "docker over ssh://root@$NS_ADDR:$PORT does not answer; ssh says:"
      rssh true >&2 || true
      exit 3
    fi
  fi
  status
}

status() {
  if answers; then
    echo "$NAME over ssh://root@$NS_ADDR:$PORT: engine $(PATH="$DIR/bin:$PATH" DOCKER_HOST="ssh://root@$NS_ADDR" DOCKER_CONTEXT='' docker version --format '{{.Server.Version}}') (sshd pid $(sshd_pid)); client config $CLIENT_CONFIG"
  else
    echo "$NAME over ssh://root@$NS_ADDR:$PORT: not answering"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop)
    need_root
    stop_sshd
    log "sshd stopped"
    ;;
  status) status ;;
  env) echo "export PATH=\"$DIR/bin:\$PATH\"" ;;
  *)
    echo "usage: $0 start|stop|status|env" >&2
    exit 2
    ;;
esac
